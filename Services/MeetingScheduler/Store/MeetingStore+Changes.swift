import Contracts
import Crypto
import Foundation
import Postgres
import ServiceKit

/// A change a caller asked for that the meeting's state does not allow (HTTP 409 / 422).
public struct MeetingChangeRefused: Error, CustomStringConvertible {
    public enum Kind: Sendable { case notFound, conflict, invalid }
    public var kind: Kind
    public var description: String
}

extension MeetingStore {
    /// Cancels the series, or one occurrence of it; SEQUENCE increments and invitees are told.
    public func cancel(_ id: UUID, occurrence: Date?, reason: String?) async throws -> MeetingRecord {
        try await postgres.withTransaction { connection in
            guard var record = try await lockedRecord(id, in: connection) else { throw MeetingChangeRefused(kind: .notFound, description: "no meeting \(id)") }
            guard record.status == "scheduled" else { throw MeetingChangeRefused(kind: .conflict, description: "the meeting is already cancelled") }
            if let occurrence {
                let changed = try await connection.execute("""
                    UPDATE meeting_occurrences SET status = 'cancelled', exclusion_reason = \(reason ?? "cancelled")
                    WHERE meeting_id = \(id) AND occurrence_start = \(occurrence) AND status = 'scheduled'
                    """)
                guard changed == 1 else {
                    throw MeetingChangeRefused(kind: .invalid, description: "the meeting has no scheduled occurrence starting \(RFC3339.string(from: occurrence))")
                }
                try await connection.execute("DELETE FROM attendee_bookings WHERE meeting_id = \(id) AND occurrence_start = \(occurrence)")
            } else {
                try await connection.execute("UPDATE meetings SET status = 'cancelled', cancelled_at = \(clock()) WHERE id = \(id)")
                try await connection.execute("UPDATE meeting_occurrences SET status = 'cancelled' WHERE meeting_id = \(id) AND status = 'scheduled'")
                try await connection.execute("DELETE FROM attendee_bookings WHERE meeting_id = \(id)")
            }
            try await connection.execute("UPDATE meetings SET sequence = sequence + 1, updated_at = \(clock()) WHERE id = \(id)")
            record = try await load(id, in: connection)!
            let cancelled = MeetingEvent.Cancelled(meetingId: id, occurrenceStart: occurrence, reason: reason, cancelledAt: clock())
            // A whole series is withdrawn with METHOD:CANCEL; one occurrence becomes an EXDATE of an updated REQUEST.
            let whole = occurrence == nil
            try await Outbox.enqueue([
                try event("cancelled", cancelled, meeting: id),
                try invitation(
                    record, kind: whole ? "meeting_cancellation" : "meeting_update", method: whole ? .cancel : .request,
                    key: "meeting:\(id.uuidString.lowercased()):sequence:\(record.sequence)"),
            ], in: connection)
            return record
        }
    }

    /// Plans the meeting again in a new window (the same invitees, rules and recurrence);
    /// SEQUENCE increments and invitees get the updated invitation.
    public func reschedule(_ id: UUID, window: Range<Date>, reason: String?) async throws -> MeetingRecord {
        try await planner.withBookingRetry { connection in
            guard let previous = try await lockedRecord(id, in: connection) else { throw MeetingChangeRefused(kind: .notFound, description: "no meeting \(id)") }
            guard previous.status == "scheduled" else { throw MeetingChangeRefused(kind: .conflict, description: "a cancelled meeting cannot be rescheduled") }
            var request: MeetingRequest?
            for row in try await connection.query("""
                SELECT duration_minutes, buffer_minutes, representation::text, venue_min_capacity, venue_accessible FROM meetings WHERE id = \(id)
                """) {
                let (duration, buffer, representationText, capacity, accessible) = try row.decode((Int, Int, String, Int?, Bool).self)
                let object = (try? JSONSerialization.jsonObject(with: Data(representationText.utf8))) as? [String: Int] ?? [:]
                let representation = Dictionary(uniqueKeysWithValues: object.compactMap { key, value in StakeholderRole(rawValue: key).map { ($0, value) } })
                guard window.upperBound.timeIntervalSince(window.lowerBound) >= Double(duration * 60) else {
                    throw MeetingChangeRefused(kind: .invalid, description: "the window is shorter than the meeting (\(duration) minutes)")
                }
                request = MeetingRequest(
                    requestID: previous.requestId, type: previous.type, title: previous.title, area: previous.area, durationMinutes: duration,
                    window: window, timeZone: previous.timeZone,
                    invitees: previous.invitees.map { .init(selector: .stakeholder($0.stakeholderId), required: $0.required) },
                    representation: representation, venueNeeds: capacity.map { .init(minimumCapacity: $0, accessible: accessible) },
                    bufferMinutes: buffer, rrule: try previous.rrule.map { try RecurrenceRule(parsing: $0) })
            }
            let plan = try await planner.plan(request!, in: connection, excluding: id)
            try await connection.execute("DELETE FROM meeting_occurrences WHERE meeting_id = \(id)")
            try await writeOccurrences(plan, meeting: id, buffer: request!.bufferMinutes, in: connection)
            try await connection.execute("""
                UPDATE meetings SET sequence = sequence + 1, venue_id = \(plan.venueID), available_invitees = \(plan.available.count), updated_at = \(clock())
                WHERE id = \(id)
                """)
            try await connection.execute("""
                UPDATE meeting_invitees SET available = stakeholder_id = ANY(\(Array(plan.available))) WHERE meeting_id = \(id)
                """)
            let record = try await load(id, in: connection)!
            let moved = MeetingEvent.Rescheduled(
                meetingId: id, start: record.start, end: record.end, previousStart: previous.start, previousEnd: previous.end,
                timezone: record.timezone, venueId: record.venueId, reason: reason, occurrences: record.scheduledOccurrences)
            try await Outbox.enqueue([
                try event("rescheduled", moved, meeting: id),
                try invitation(record, kind: "meeting_update", method: .request, key: "meeting:\(id.uuidString.lowercased()):sequence:\(record.sequence)"),
            ], in: connection)
            return record
        }
    }

    func lockedRecord(_ id: UUID, in connection: PostgresConnection) async throws -> MeetingRecord? {
        guard try await connection.query("SELECT 1 FROM meetings WHERE id = \(id) FOR UPDATE").contains(where: { _ in true }) else { return nil }
        return try await load(id, in: connection)
    }

    /// Records an invitee's answer (for the series, or one occurrence) and publishes it.
    public func rsvp(_ id: UUID, stakeholder: UUID, response: MeetingEvent.Response, occurrence: Date?) async throws {
        try await postgres.withTransaction { connection in
            let role = try await inviteeRole(id, stakeholder, occurrence: occurrence, in: connection)
            let now = clock()
            try await connection.execute("""
                INSERT INTO meeting_rsvps (meeting_id, stakeholder_id, occurrence_start, response, responded_at)
                VALUES (\(id), \(stakeholder), coalesce(\(occurrence), '-infinity'), \(response.rawValue), \(now))
                ON CONFLICT (meeting_id, stakeholder_id, occurrence_start) DO UPDATE SET response = excluded.response, responded_at = excluded.responded_at
                """)
            try await Outbox.enqueue([try event("rsvp", MeetingEvent.Rsvp(
                meetingId: id, stakeholderId: stakeholder, role: role, occurrenceStart: occurrence, response: response, respondedAt: now), meeting: id)],
                in: connection)
        }
    }

    /// Checks an invitee in (or records an absence) at one occurrence (default: the first).
    public func attendance(_ id: UUID, stakeholder: UUID, attended: Bool, occurrence: Date?) async throws -> Date {
        try await postgres.withTransaction { connection in
            let role = try await inviteeRole(id, stakeholder, occurrence: occurrence, in: connection)
            var start = occurrence
            if start == nil {
                for row in try await connection.query("""
                    SELECT occurrence_start FROM meeting_occurrences WHERE meeting_id = \(id) AND status = 'scheduled' ORDER BY occurrence_start LIMIT 1
                    """) { start = try row.decode(Date.self) }
            }
            guard let start else { throw MeetingChangeRefused(kind: .invalid, description: "the meeting has no scheduled occurrence") }
            let now = clock()
            try await connection.execute("""
                INSERT INTO meeting_attendance (meeting_id, stakeholder_id, occurrence_start, attended, recorded_at)
                VALUES (\(id), \(stakeholder), \(start), \(attended), \(now))
                ON CONFLICT (meeting_id, stakeholder_id, occurrence_start) DO UPDATE SET attended = excluded.attended, recorded_at = excluded.recorded_at
                """)
            try await Outbox.enqueue([try event("attendance", MeetingEvent.Attendance(
                meetingId: id, stakeholderId: stakeholder, role: role, occurrenceStart: start, attended: attended, recordedAt: now), meeting: id)],
                in: connection)
            return start
        }
    }

    private func inviteeRole(_ id: UUID, _ stakeholder: UUID, occurrence: Date?, in connection: PostgresConnection) async throws -> StakeholderRole? {
        guard try await connection.query("SELECT 1 FROM meetings WHERE id = \(id)").contains(where: { _ in true }) else {
            throw MeetingChangeRefused(kind: .notFound, description: "no meeting \(id)")
        }
        var role: String?
        for row in try await connection.query("SELECT role FROM meeting_invitees WHERE meeting_id = \(id) AND stakeholder_id = \(stakeholder)") {
            role = try row.decode(String.self)
        }
        guard let role else { throw MeetingChangeRefused(kind: .invalid, description: "stakeholder \(stakeholder.uuidString.lowercased()) is not invited to this meeting") }
        if let occurrence {
            guard try await connection.query("""
                SELECT 1 FROM meeting_occurrences WHERE meeting_id = \(id) AND occurrence_start = \(occurrence)
                """).contains(where: { _ in true }) else {
                throw MeetingChangeRefused(kind: .invalid, description: "the meeting has no occurrence starting \(RFC3339.string(from: occurrence))")
            }
        }
        return StakeholderRole(rawValue: role)
    }

    // MARK: Calendar feeds

    /// A new feed token for a stakeholder (shown once; only its SHA-256 is kept).
    public func makeFeedToken(for stakeholder: UUID) async throws -> String? {
        guard try await postgres.query("SELECT 1 FROM stakeholders WHERE id = \(stakeholder)").contains(where: { _ in true }) else { return nil }
        let token = (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(16) }.joined()
        try await postgres.execute("INSERT INTO calendar_feed_tokens (token_sha256, stakeholder_id) VALUES (\(Self.hash(token)), \(stakeholder))")
        return token
    }

    /// The stakeholder's calendar (every meeting they are invited to), or nil for an unknown token.
    public func feed(token: String) async throws -> String? {
        var stakeholder: UUID?
        for row in try await postgres.query("SELECT stakeholder_id FROM calendar_feed_tokens WHERE token_sha256 = \(Self.hash(token))") {
            stakeholder = try row.decode(UUID.self)
        }
        guard let stakeholder else { return nil }
        return try await postgres.withConnection { connection in
            var ids: [UUID] = []
            for row in try await connection.query("""
                SELECT m.id FROM meetings m JOIN meeting_invitees i ON i.meeting_id = m.id WHERE i.stakeholder_id = \(stakeholder) ORDER BY m.created_at, m.id
                """) { ids.append(try row.decode(UUID.self)) }
            var events: [CalendarEvent] = []
            for id in ids { if let record = try await load(id, in: connection) { events.append(record.calendarEvent) } }
            return ICSWriter.calendar(events, method: .publish, name: "Coalition meetings")
        }
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String($0, radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
