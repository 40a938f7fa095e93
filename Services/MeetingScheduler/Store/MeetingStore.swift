import Contracts
import Foundation
import Logging
import Postgres
import ServiceKit

/// Meetings in PostgreSQL: written with their events (outbox) in one transaction; read back
/// for the API and the calendar feeds.
public struct MeetingStore: Sendable {
    let postgres: PostgresClient
    let planner: MeetingPlanner
    let clock: @Sendable () -> Date

    public init(postgres: PostgresClient, planner: MeetingPlanner, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.postgres = postgres
        self.planner = planner
        self.clock = clock
    }

    /// Plans and stores a meeting; a repeated `request_id` returns the meeting already made.
    public func schedule(_ request: MeetingRequest) async throws -> (record: MeetingRecord, created: Bool) {
        try await planner.withBookingRetry { connection in
            if let existing = try await existingMeeting(request: request.requestID, in: connection) {
                return (try await load(existing, in: connection)!, false)
            }
            let plan = try await planner.plan(request, in: connection)
            let record = try await insert(plan, for: request, meeting: UUID(), in: connection)
            return (record, true)
        }
    }

    func existingMeeting(request: UUID, in connection: PostgresConnection) async throws -> UUID? {
        for row in try await connection.query("SELECT id FROM meetings WHERE request_id = \(request)") { return try row.decode(UUID.self) }
        return nil
    }

    /// Writes the plan, the `scheduled` event and the invitations.
    func insert(_ plan: MeetingPlan, for request: MeetingRequest, meeting id: UUID, in connection: PostgresConnection) async throws -> MeetingRecord {
        let representation = String(decoding: try JSONSerialization.data(
            withJSONObject: Dictionary(uniqueKeysWithValues: request.representation.map { ($0.key.rawValue, $0.value) }), options: [.sortedKeys]), as: UTF8.self)
        try await connection.execute("""
            INSERT INTO meetings (id, request_id, type, title, area, timezone, duration_minutes, buffer_minutes, representation,
                                  venue_min_capacity, venue_accessible, venue_id, rrule, hotspot_episode_id, available_invitees, updated_at)
            VALUES (\(id), \(request.requestID), \(request.type.rawValue), \(request.title), \(request.area), \(request.timeZone.identifier),
                    \(request.durationMinutes), \(request.bufferMinutes), \(representation)::jsonb, \(request.venueNeeds?.minimumCapacity),
                    \(request.venueNeeds?.accessible ?? false), \(plan.venueID), \(request.rrule?.canonical), \(request.hotspotEpisodeID),
                    \(plan.available.count), \(clock()))
            """)
        try await connection.execute("""
            INSERT INTO meeting_invitees (meeting_id, stakeholder_id, role, required, available)
            SELECT \(id), u.id, u.role, u.required, u.available
            FROM unnest(\(plan.invitees.map(\.id))::uuid[], \(plan.invitees.map(\.role.rawValue))::text[],
                        \(plan.invitees.map(\.required))::boolean[], \(plan.invitees.map { plan.available.contains($0.id) })::boolean[])
                 AS u(id, role, required, available)
            """)
        try await writeOccurrences(plan, meeting: id, buffer: request.bufferMinutes, in: connection)
        let record = try await load(id, in: connection)!
        try await Outbox.enqueue([
            try event("scheduled", record.scheduledEvent, meeting: id),
            try invitation(record, kind: "meeting_invitation", method: .request, key: "meeting:\(id.uuidString.lowercased()):invitation"),
        ], in: connection)
        return record
    }

    func writeOccurrences(_ plan: MeetingPlan, meeting id: UUID, buffer minutes: Int, in connection: PostgresConnection) async throws {
        let buffer = TimeInterval(minutes * 60)
        let occurrences = plan.occurrences
        try await connection.execute("""
            INSERT INTO meeting_occurrences (meeting_id, occurrence_start, occurrence_end, venue_id, venue_span, status, exclusion_reason)
            SELECT \(id), u.start, u.end_, u.venue, tstzrange(u.start - make_interval(secs => \(buffer)), u.end_ + make_interval(secs => \(buffer))),
                   u.status, u.reason
            FROM unnest(\(occurrences.map(\.start))::timestamptz[], \(occurrences.map(\.end))::timestamptz[], \(occurrences.map(\.venueID))::uuid[],
                        \(occurrences.map { $0.exclusionReason == nil ? "scheduled" : "excluded" })::text[], \(occurrences.map(\.exclusionReason))::text[])
                 AS u(start, end_, venue, status, reason)
            """)
        var starts: [Date] = [], people: [UUID] = []
        for occurrence in occurrences where occurrence.exclusionReason == nil {
            for person in occurrence.booked {
                starts.append(occurrence.start)
                people.append(person)
            }
        }
        guard !people.isEmpty else { return }
        try await connection.execute("""
            INSERT INTO attendee_bookings (meeting_id, occurrence_start, stakeholder_id, span)
            SELECT \(id), o.occurrence_start, u.person, o.venue_span
            FROM unnest(\(starts)::timestamptz[], \(people)::uuid[]) AS u(start, person)
            JOIN meeting_occurrences o ON o.meeting_id = \(id) AND o.occurrence_start = u.start
            """)
    }

    func event(_ name: String, _ payload: some Encodable, meeting: UUID) throws -> OutboxEvent {
        let key = meeting.uuidString.lowercased()
        return OutboxEvent(topic: .meetingsEvents, key: key, event: try CloudEvent(
            id: UUID().uuidString.lowercased(), source: MeetingEvent.source, type: EventType.meeting(name), time: clock(), subject: key, payload: payload))
    }

    /// An `alerts.requested` record asking the fan-out to send every invitee the .ics.
    func invitation(_ record: MeetingRecord, kind: String, method: ICSWriter.Method, key: String) throws -> OutboxEvent {
        let ics = ICSWriter.calendar([record.calendarEvent], method: method)
        let when = SlotMiss.format(Int64(record.start.timeIntervalSince1970), in: record.timeZone) + " " + (record.timeZone.abbreviation(for: record.start) ?? record.timezone)
        let subject: String
        let body: String
        switch kind {
        case "meeting_cancellation":
            subject = "Cancelled: \(record.title)"
            body = "The meeting \(record.title) on \(when) in \(record.area) is cancelled."
        case "meeting_update":
            subject = "Updated: \(record.title)"
            body = "The meeting \(record.title) in \(record.area) has moved: it now starts \(when)" + (record.rrule.map { " and repeats (\($0))" } ?? "") + "."
        default:
            subject = record.type == .emergency ? record.title : "Invitation: \(record.title)"
            body = "You are invited to \(record.title) in \(record.area), starting \(when)" + (record.venueName.map { " at \($0)" } ?? "")
                + (record.rrule.map { " and repeating (\($0))" } ?? "") + "."
        }
        let request = AlertRequest(
            requestId: UUID(version5: Self.requestNamespace, name: Array(key.utf8)), idempotencyKey: key, kind: kind, requestedBy: "meeting-scheduler",
            recipients: record.invitees.map { .init(stakeholderId: $0.stakeholderId) }, subject: subject, body: body,
            severity: record.type == .emergency ? 4 : 2, area: record.area, meetingId: record.meetingId.uuidString.lowercased(),
            attachments: [.init(filename: method == .cancel ? "cancel.ics" : "invite.ics", contentType: "text/calendar; method=\(method.rawValue)",
                                contentBase64: Data(ics.utf8).base64EncodedString())],
            requestedAt: clock())
        let requestKey = request.requestId.uuidString.lowercased()
        return OutboxEvent(topic: .alertsRequested, key: requestKey, event: try CloudEvent(
            id: requestKey, source: MeetingEvent.source, type: EventType.alertRequested, time: clock(),
            subject: record.meetingId.uuidString.lowercased(), payload: request))
    }

    /// Namespace of invitation request ids: UUIDv5 of the idempotency key.
    static let requestNamespace = UUID(uuidString: "5d0c3f5e-8a41-4c2b-9b1e-6f7a8b9c0d1e")!

    public func load(_ id: UUID) async throws -> MeetingRecord? {
        try await postgres.withConnection { try await load(id, in: $0) }
    }

    func load(_ id: UUID, in connection: PostgresConnection) async throws -> MeetingRecord? {
        var record: MeetingRecord?
        for row in try await connection.query("""
            SELECT m.id, m.request_id, m.type, m.title, m.area, m.timezone, m.venue_id, v.name, m.rrule, m.sequence, m.status,
                   m.hotspot_episode_id, m.available_invitees, m.updated_at
            FROM meetings m LEFT JOIN venues v ON v.id = m.venue_id WHERE m.id = \(id)
            """) {
            let (meeting, request, type, title, area, zone, venue, venueName, rrule, sequence, status, episode, available, updated) = try row.decode(
                (UUID, UUID, String, String, String, String, UUID?, String?, String?, Int, String, UUID?, Int, Date).self)
            record = MeetingRecord(
                meetingId: meeting, requestId: request, type: MeetingEvent.MeetingType(rawValue: type) ?? .coalition, title: title, area: area,
                timezone: zone, start: Date(), end: Date(), venueId: venue?.uuidString.lowercased(), venueName: venueName, rrule: rrule,
                sequence: sequence, status: status, hotspotEpisodeId: episode?.uuidString.lowercased(), availableInvitees: available, invitees: [],
                occurrences: [], updatedAt: updated)
        }
        guard var record else { return nil }
        for row in try await connection.query("""
            SELECT i.stakeholder_id, s.name, i.role, i.required, i.available,
                   (SELECT r.response FROM meeting_rsvps r WHERE r.meeting_id = i.meeting_id AND r.stakeholder_id = i.stakeholder_id
                    AND r.occurrence_start = '-infinity')
            FROM meeting_invitees i JOIN stakeholders s ON s.id = i.stakeholder_id WHERE i.meeting_id = \(id) ORDER BY i.required DESC, s.name, i.stakeholder_id
            """) {
            let (person, name, role, required, available, response) = try row.decode((UUID, String, String, Bool, Bool, String?).self)
            record.invitees.append(.init(
                stakeholderId: person, name: name, role: StakeholderRole(rawValue: role) ?? .resident, required: required, available: available,
                response: response))
        }
        for row in try await connection.query("""
            SELECT occurrence_start, occurrence_end, status, venue_id, exclusion_reason FROM meeting_occurrences
            WHERE meeting_id = \(id) ORDER BY occurrence_start
            """) {
            let (start, end, status, venue, reason) = try row.decode((Date, Date, String, UUID?, String?).self)
            record.occurrences.append(.init(start: start, end: end, status: status, venueId: venue?.uuidString.lowercased(), reason: reason))
        }
        if let first = record.occurrences.first {
            record.start = first.start
            record.end = first.end
        }
        return record
    }
}
