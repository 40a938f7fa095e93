import Contracts
import Foundation
import Logging
import Metrics
import Postgres
import ServiceKit

/// Turns a request into a plan inside one transaction: loads availability, solves, and checks
/// every occurrence of a series. The exclusion constraints are the final word on double
/// booking: when a concurrent request took the same person or venue first, the insert fails
/// and `withBookingRetry` plans again on what is now committed.
public struct MeetingPlanner: Sendable {
    let postgres: PostgresClient
    let logger: Logger
    /// How often a request is re-planned after losing a race for a person or venue.
    let maximumAttempts: Int

    public init(postgres: PostgresClient, logger: Logger, maximumAttempts: Int = 60) {
        self.postgres = postgres
        self.logger = logger
        self.maximumAttempts = maximumAttempts
    }

    /// Runs `body` in a transaction, again on a fresh snapshot when PostgreSQL refused a
    /// booking (23P01 exclusion violation), broke a deadlock between two bookings, or a
    /// concurrent duplicate of the same request or episode committed first (23505).
    func withBookingRetry<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await postgres.withTransaction(maxAttempts: 1) { try await body($0) }
            } catch let error as PostgresError where ["23P01", "23505", "40P01", "40001"].contains(error.sqlState ?? "") {
                Counter(label: "coalition_scheduler_booking_retries_total", dimensions: [("sqlstate", error.sqlState ?? "")]).increment()
                guard attempt < maximumAttempts else { throw SchedulingContention(attempts: attempt) }
                logger.debug("booking lost a race; planning again", metadata: ["meeting.attempt": "\(attempt)"])
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...20)))
            }
        }
    }

    func plan(_ request: MeetingRequest, in connection: PostgresConnection, excluding meeting: UUID? = nil) async throws -> MeetingPlan {
        let loader = AvailabilityLoader(connection: connection, excludingMeeting: meeting)
        let (invitees, unknown) = try await loader.invitees(request.invitees)
        if !unknown.isEmpty {
            throw UnknownInvitees(errors: unknown.map {
                .init(field: "invitees[\($0.index)].stakeholder_id", code: "unknown_stakeholder", message: "no stakeholder \($0.id.uuidString.lowercased())")
            })
        }
        let duration = Int64(request.durationMinutes * 60)
        let buffer = Int64(request.bufferMinutes * 60)
        let window = AvailabilityLoader.seconds(request.window.lowerBound)..<AvailabilityLoader.seconds(request.window.upperBound)
        let horizon = (window.lowerBound - buffer)..<(window.upperBound + buffer)
        var problem = try await self.problem(request, invitees, loader, horizon: horizon, window: window)
        problem.allowedStarts = request.rrule.flatMap { $0.days(in: request.window, timeZone: request.timeZone) }
        let choice: SlotChoice
        switch SlotSolver.solve(problem) {
        case .impossible(let miss): throw Unschedulable(reason: miss.explanation(in: request.timeZone))
        case .scheduled(let slot): choice = slot
        }
        let requiredIDs = Set(invitees.filter(\.required).map(\.id))
        let firstStart = AvailabilityLoader.date(choice.start)
        var occurrences = [MeetingPlan.Occurrence(
            start: firstStart, end: firstStart.addingTimeInterval(TimeInterval(duration)), venueID: choice.venueID, exclusionReason: nil,
            booked: choice.available.filter(requiredIDs.contains))]
        if let rule = request.rrule {
            let starts: [Date]
            do { starts = try rule.occurrences(from: firstStart, in: request.timeZone) } catch { throw Unschedulable(reason: error.description) }
            let later = starts.dropFirst().map(AvailabilityLoader.seconds)
            if let last = later.last {
                let seriesHorizon = (later[later.startIndex] - buffer)..<(last + duration + buffer)
                var series = try await self.problem(request, invitees, loader, horizon: seriesHorizon, window: seriesHorizon)
                for start in later {
                    series.window = start..<(start + duration)
                    let date = AvailabilityLoader.date(start)
                    switch SlotSolver.solve(series) {
                    case .scheduled(let slot):
                        occurrences.append(.init(
                            start: date, end: date.addingTimeInterval(TimeInterval(duration)), venueID: slot.venueID, exclusionReason: nil,
                            booked: slot.available.filter(requiredIDs.contains)))
                    case .impossible(let miss):
                        var reason = miss.explanation(in: request.timeZone)
                        if let range = reason.range(of: "; nearest miss:") { reason = String(reason[..<range.lowerBound]) }
                        occurrences.append(.init(
                            start: date, end: date.addingTimeInterval(TimeInterval(duration)), venueID: nil, exclusionReason: reason, booked: []))
                    }
                }
            }
        }
        return MeetingPlan(invitees: invitees, available: Set(choice.available), venueID: choice.venueID, occurrences: occurrences, objective: choice.objective)
    }

    private func problem(
        _ request: MeetingRequest, _ invitees: [AvailabilityLoader.InviteeRecord], _ loader: AvailabilityLoader, horizon: Range<Int64>, window: Range<Int64>
    ) async throws -> SchedulingProblem {
        let free = try await loader.free(invitees, horizon: horizon)
        var venues: [SchedulingProblem.Venue] = []
        if let needs = request.venueNeeds { venues = try await loader.venues(needs, horizon: horizon).0 }
        return SchedulingProblem(
            window: window, duration: Int64(request.durationMinutes * 60), buffer: Int64(request.bufferMinutes * 60),
            invitees: invitees.map { .init(id: $0.id, role: $0.role, required: $0.required, free: free[$0.id] ?? IntervalSet()) },
            representation: request.representation, venueNeeds: request.venueNeeds, venues: venues)
    }
}

/// Every attempt lost the race for a person or venue to a concurrent request.
public struct SchedulingContention: Error, CustomStringConvertible {
    public var attempts: Int
    public var description: String { "the slot was taken by concurrent requests \(attempts) times in a row; try again" }
}
