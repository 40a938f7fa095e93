import Contracts
import Foundation
import Testing
import TestSupport
@testable import MeetingScheduler

/// The solver against a brute-force reference, and the reasons it gives when nothing fits.
@Suite("Slot solver")
struct SolverTests {
    static let roles: [StakeholderRole] = [.lawEnforcement, .communityOrg, .localGovernment]

    /// Everything decided the slow, obvious way: every minute of the window, every interval
    /// scanned, no cursors and no early stop.
    static func reference(_ problem: SchedulingProblem) -> (start: Int64, objective: SlotObjective)? {
        func free(_ intervals: [Range<Int64>], _ span: Range<Int64>) -> Bool {
            intervals.contains { $0.lowerBound <= span.lowerBound && $0.upperBound >= span.upperBound }
        }
        var best: (start: Int64, objective: SlotObjective)?
        var start = problem.window.lowerBound
        while start + problem.duration <= problem.window.upperBound {
            defer { start += 60 }
            guard start % 900 == 0 else { continue }
            if let allowed = problem.allowedStarts, !allowed.intervals.contains(where: { $0.contains(start) }) { continue }
            let span = (start - problem.buffer)..<(start + problem.duration + problem.buffer)
            let available = problem.invitees.filter { free($0.free.intervals, span) }
            let rolesMet = problem.representation.allSatisfy { role, minimum in available.filter { $0.role == role }.count >= minimum }
            let venueFree = problem.venueNeeds.map { needs in
                problem.venues.contains { needs.admits(capacity: $0.capacity, accessible: $0.accessible) && free($0.free.intervals, span) }
            } ?? true
            guard rolesMet && venueFree else { continue }
            let objective = SlotObjective(required: available.filter(\.required).count, optional: available.filter { !$0.required }.count)
            if best == nil || best!.objective < objective { best = (start, objective) }
        }
        return best
    }

    static func randomFree(_ horizon: Range<Int64>, _ random: inout SeededRandom) -> IntervalSet {
        let blocks = (0..<Int.random(in: 0...4, using: &random)).map { _ -> Range<Int64> in
            let start = Int64.random(in: horizon.lowerBound..<horizon.upperBound, using: &random) / 300 * 300
            return start..<(start + Int64.random(in: 1...36, using: &random) * 300)
        }
        return IntervalSet.everything(horizon).subtracting(blocks)
    }

    static func randomProblem(_ random: inout SeededRandom) -> SchedulingProblem {
        let base: Int64 = 1_736_870_400 + Int64.random(in: 0..<96, using: &random) * 300
        let window = base..<(base + Int64.random(in: 2...12, using: &random) * 3600)
        let duration = Int64.random(in: 1...24, using: &random) * 300
        let buffer = Int64([0, 0, 300, 900].randomElement(using: &random)!)
        let horizon = (window.lowerBound - buffer)..<(window.upperBound + buffer)
        let invitees = (0..<Int.random(in: 1...7, using: &random)).map { _ in
            SchedulingProblem.Invitee(
                id: UUID(), role: roles.randomElement(using: &random)!, required: Bool.random(using: &random), free: randomFree(horizon, &random))
        }
        var representation: [StakeholderRole: Int] = [:]
        for role in roles where Bool.random(using: &random) { representation[role] = Int.random(in: 0...2, using: &random) }
        let needs: SchedulingProblem.VenueNeeds? = Bool.random(using: &random)
            ? .init(minimumCapacity: Int.random(in: 1...30, using: &random), accessible: Bool.random(using: &random)) : nil
        let venues = (0..<Int.random(in: 0...3, using: &random)).map { _ in
            SchedulingProblem.Venue(
                id: UUID(), capacity: Int.random(in: 5...40, using: &random), accessible: Bool.random(using: &random), free: randomFree(horizon, &random))
        }
        return SchedulingProblem(
            window: window, duration: duration, buffer: buffer, invitees: invitees, representation: representation, venueNeeds: needs, venues: venues)
    }

    @Test("same objective and start as the exhaustive reference on 400 random small instances")
    func matchesReference() {
        var random = SeededRandom(seed: 0x5EED_5C4E_D01E)
        var scheduled = 0, impossible = 0
        for index in 0..<400 {
            let problem = Self.randomProblem(&random)
            let expected = Self.reference(problem)
            switch SlotSolver.solve(problem) {
            case .scheduled(let choice):
                scheduled += 1
                #expect(expected?.objective == choice.objective, "instance \(index)")
                #expect(expected?.start == choice.start, "instance \(index)")
                // What the choice reports is true of the slot it names.
                let span = problem.span(at: choice.start)
                #expect(Set(choice.available) == Set(problem.invitees.filter { $0.free.contains(span) }.map(\.id)), "instance \(index)")
                if let venue = choice.venueID {
                    #expect(problem.venues.first { $0.id == venue }!.free.contains(span), "instance \(index)")
                }
            case .impossible:
                impossible += 1
                #expect(expected == nil, "instance \(index): the reference found \(String(describing: expected))")
            }
        }
        // Both kinds of outcome are exercised, or the comparison proves little.
        #expect(scheduled > 100 && impossible > 30, "\(scheduled) scheduled, \(impossible) impossible")
    }

    @Test("required invitees outweigh any number of optional ones; ties go to the earliest start")
    func requiredFirstThenEarliest() {
        let window: Range<Int64> = 0..<(8 * 3600)
        let morning = IntervalSet([0..<(4 * 3600)]), afternoon = IntervalSet([(4 * 3600)..<(8 * 3600)])
        let invitees = [
            SchedulingProblem.Invitee(id: UUID(), role: .lawEnforcement, required: true, free: afternoon),
            SchedulingProblem.Invitee(id: UUID(), role: .communityOrg, required: false, free: morning),
            SchedulingProblem.Invitee(id: UUID(), role: .communityOrg, required: false, free: morning),
        ]
        let problem = SchedulingProblem(window: window, duration: 3600, invitees: invitees, representation: [:], venueNeeds: nil, venues: [])
        guard case .scheduled(let choice) = SlotSolver.solve(problem) else { Issue.record("no slot"); return }
        #expect(choice.start == 4 * 3600)
        #expect(choice.objective == SlotObjective(required: 1, optional: 0))
    }

    @Test("an impossible request says which role is missing and the nearest miss, in the meeting's time zone")
    func explainsTheNearestMiss() throws {
        // Tue 14 Jan 2025, 09:00–21:00 New York time.
        let start: Int64 = 1_736_863_200
        let window = start..<(start + 12 * 3600)
        let evening = IntervalSet([(start + 9 * 3600)..<(start + 12 * 3600)])
        let invitees = [
            SchedulingProblem.Invitee(id: UUID(), role: .lawEnforcement, required: true, free: evening),
            SchedulingProblem.Invitee(id: UUID(), role: .communityOrg, required: true, free: evening),
            SchedulingProblem.Invitee(id: UUID(), role: .localGovernment, required: true, free: IntervalSet()),
        ]
        let problem = SchedulingProblem(
            window: window, duration: 3600, invitees: invitees, representation: [.lawEnforcement: 1, .communityOrg: 1, .localGovernment: 1],
            venueNeeds: nil, venues: [])
        guard case .impossible(let miss) = SlotSolver.solve(problem) else { Issue.record("scheduled"); return }
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        #expect(miss.explanation(in: zone) == "no slot has a local_government member available; nearest miss: Tue 14 Jan 18:00, 2 of 3 roles")
    }

    @Test("no venue large enough, and uninvited roles, are named as such")
    func explainsVenuesAndInvitations() {
        let window: Range<Int64> = 0..<(4 * 3600)
        let invitee = SchedulingProblem.Invitee(id: UUID(), role: .communityOrg, required: true, free: .everything(window))
        let venue = SchedulingProblem.Venue(id: UUID(), capacity: 10, accessible: true, free: .everything(window))
        let problem = SchedulingProblem(
            window: window, duration: 3600, invitees: [invitee], representation: [.lawEnforcement: 1],
            venueNeeds: .init(minimumCapacity: 50, accessible: false), venues: [venue])
        guard case .impossible(let miss) = SlotSolver.solve(problem) else { Issue.record("scheduled"); return }
        let text = miss.explanation(in: .gmt)
        #expect(text.hasPrefix("no law_enforcement member is invited; no venue has capacity ≥ 50; nearest miss: "))
    }

    @Test("interval subtraction agrees with a minute-by-minute count")
    func intervalSubtraction() {
        var random = SeededRandom(seed: 42)
        for _ in 0..<200 {
            let base = IntervalSet((0..<3).map { _ in let s = Int64.random(in: 0..<600, using: &random); return s..<(s + Int64.random(in: 1...120, using: &random)) })
            let cuts = (0..<3).map { _ in let s = Int64.random(in: 0..<600, using: &random); return s..<(s + Int64.random(in: 1...120, using: &random)) }
            let result = base.subtracting(cuts)
            for minute in Int64(0)..<720 {
                let expected = base.intervals.contains { $0.contains(minute) } && !cuts.contains { $0.contains(minute) }
                #expect(result.intervals.contains { $0.contains(minute) } == expected)
            }
            #expect(result == IntervalSet(result.intervals))
        }
    }
}
