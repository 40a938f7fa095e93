import Contracts
import Foundation
import Postgres

/// Coalition engagement (metric `engagement`, topic `metrics.engagement`) from
/// `meetings.events`: per window of an occurrence's start and area × invitee role (and area,
/// role and overall totals) — occurrences scheduled (not cancelled), held (someone attended),
/// invitations, RSVPs by answer, attendance and the attendance rate (attended / invited).
///
/// The events update a copy of the meetings as they last described them (occurrences,
/// invitees, answers; an answer about the whole series applies to every occurrence without
/// one of its own), and every row an event touched is recomputed from it. Each event applies
/// once: its id goes into the inbox in the same transaction.
enum Engagement {
    static let unspecifiedRole = "unspecified"
    /// `occurrence_start` of an answer about the whole series (no meeting is that old).
    static let seriesAnswer = Date(timeIntervalSince1970: 0)

    /// Applies `changes` (in order) and returns the rows they touched.
    static func apply(
        _ changes: [(change: MeetingChange, eventID: String)], consumer: String, cache: inout WindowCache, in connection: PostgresConnection
    ) async throws -> Set<MetricRow> {
        guard !changes.isEmpty else { return [] }
        let fresh = Set(try await connection.query("""
            INSERT INTO inbox (consumer, event_id) SELECT \(consumer), e FROM unnest(\(changes.map(\.eventID))::text[]) AS e
            ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id
            """).map { try $0.decode(0, as: String.self) })
        var rows: Set<MetricRow> = []
        var applied: Set<String> = []
        for (change, eventID) in changes where fresh.contains(eventID) && !applied.contains(eventID) {
            applied.insert(eventID)
            let meeting = change.meetingID
            let before = try await footprint(meeting, in: connection)
            try await record(change, in: connection)
            let after = try await footprint(meeting, in: connection)
            for footprint in [before, after].compactMap({ $0 }) {
                var dimensions = [DimensionSet(.engagement, footprint.area, "*"), DimensionSet(.engagement, "*", "*")]
                for role in footprint.roles {
                    dimensions.append(DimensionSet(.engagement, footprint.area, role))
                    dimensions.append(DimensionSet(.engagement, "*", role))
                }
                for start in footprint.starts { rows.formUnion(MetricRow.rows(containing: start, dimensions: dimensions, cache: &cache)) }
            }
        }
        return rows
    }

    /// Where a meeting counts: its area, every occurrence start (cancelled ones too: they
    /// stop counting) and the roles it invited.
    struct Footprint {
        var area: String
        var starts: [Date]
        var roles: Set<String>
    }

    static func footprint(_ meeting: UUID, in connection: PostgresConnection) async throws -> Footprint? {
        guard let area = try await connection.query("SELECT area FROM metric_meetings WHERE meeting_id = \(meeting)").first?.decode(0, as: String.self) else {
            return nil
        }
        let starts = try await connection.query("SELECT occurrence_start FROM metric_meeting_occurrences WHERE meeting_id = \(meeting)")
            .map { try $0.decode(0, as: Date.self) }
        let roles = try await connection.query("SELECT DISTINCT role FROM metric_meeting_invitees WHERE meeting_id = \(meeting)")
            .map { try $0.decode(0, as: String.self) }
        return Footprint(area: area, starts: starts, roles: Set(roles))
    }

    static func record(_ change: MeetingChange, in connection: PostgresConnection) async throws {
        switch change {
        case .scheduled(let event):
            try await connection.execute("""
                INSERT INTO metric_meetings (meeting_id, type, area, cancelled) VALUES (\(event.meetingId), \(event.type.rawValue), \(event.area), false)
                ON CONFLICT (meeting_id) DO UPDATE SET type = EXCLUDED.type, area = EXCLUDED.area
                """)
            try await replaceOccurrences(event.meetingId, event.occurrences ?? [.init(start: event.start, end: event.end)], in: connection)
            let invitees = event.invitees
            try await connection.execute("DELETE FROM metric_meeting_invitees WHERE meeting_id = \(event.meetingId)")
            try await connection.execute("""
                INSERT INTO metric_meeting_invitees (meeting_id, stakeholder_id, role)
                SELECT \(event.meetingId), u.s, u.r FROM unnest(\(invitees.map(\.stakeholderId))::uuid[], \(invitees.map { $0.role?.rawValue ?? unspecifiedRole })::text[]) AS u(s, r)
                ON CONFLICT DO NOTHING
                """)
        case .rescheduled(let event):
            try await replaceOccurrences(event.meetingId, event.occurrences ?? [.init(start: event.start, end: event.end)], in: connection)
        case .cancelled(let event):
            if let occurrence = event.occurrenceStart {
                try await connection.execute("""
                    UPDATE metric_meeting_occurrences SET cancelled = true WHERE meeting_id = \(event.meetingId) AND occurrence_start = \(occurrence)
                    """)
            } else {
                try await connection.execute("UPDATE metric_meetings SET cancelled = true WHERE meeting_id = \(event.meetingId)")
            }
        case .rsvp(let event):
            try await connection.execute("""
                INSERT INTO metric_meeting_answers (meeting_id, stakeholder_id, occurrence_start, rsvp, rsvp_at)
                VALUES (\(event.meetingId), \(event.stakeholderId), \(event.occurrenceStart ?? seriesAnswer), \(event.response.rawValue), \(event.respondedAt))
                ON CONFLICT (meeting_id, stakeholder_id, occurrence_start) DO UPDATE SET rsvp = EXCLUDED.rsvp, rsvp_at = EXCLUDED.rsvp_at
                WHERE metric_meeting_answers.rsvp_at IS NULL OR metric_meeting_answers.rsvp_at <= EXCLUDED.rsvp_at
                """)
        case .attendance(let event):
            try await connection.execute("""
                INSERT INTO metric_meeting_answers (meeting_id, stakeholder_id, occurrence_start, attended, attended_at)
                VALUES (\(event.meetingId), \(event.stakeholderId), \(event.occurrenceStart ?? seriesAnswer), \(event.attended), \(event.recordedAt))
                ON CONFLICT (meeting_id, stakeholder_id, occurrence_start) DO UPDATE SET attended = EXCLUDED.attended, attended_at = EXCLUDED.attended_at
                WHERE metric_meeting_answers.attended_at IS NULL OR metric_meeting_answers.attended_at <= EXCLUDED.attended_at
                """)
        }
    }

    private static func replaceOccurrences(_ meeting: UUID, _ occurrences: [MeetingEvent.Occurrence], in connection: PostgresConnection) async throws {
        try await connection.execute("DELETE FROM metric_meeting_occurrences WHERE meeting_id = \(meeting)")
        try await connection.execute("""
            INSERT INTO metric_meeting_occurrences (meeting_id, occurrence_start, occurrence_end)
            SELECT \(meeting), u.s, u.e FROM unnest(\(occurrences.map(\.start))::timestamptz[], \(occurrences.map(\.end))::timestamptz[]) AS u(s, e)
            ON CONFLICT DO NOTHING
            """)
    }

    static func recompute(_ rows: Set<MetricRow>, in connection: PostgresConnection) async throws -> [ComputedRow] {
        guard !rows.isEmpty else { return [] }
        let sorted = rows.sorted { $0.messageKey < $1.messageKey }
        let result = try await connection.query("""
            SELECT u.n, r.scheduled, r.held, r.invitations, r.accepted, r.declined, r.tentative, r.attended
            FROM unnest(\(sorted.map(\.start))::timestamptz[], \(sorted.map(\.end))::timestamptz[],
                        \(sorted.map { $0.dimensions.object["area"] ?? "*" })::text[], \(sorted.map { $0.dimensions.object["role"] ?? "*" })::text[])
                 WITH ORDINALITY AS u(s, e, area, role, n)
            CROSS JOIN LATERAL (
                SELECT count(DISTINCT (o.meeting_id, o.occurrence_start))::bigint AS scheduled,
                       count(DISTINCT (o.meeting_id, o.occurrence_start)) FILTER (WHERE coalesce(own.attended, series.attended))::bigint AS held,
                       count(i.stakeholder_id)::bigint AS invitations,
                       count(*) FILTER (WHERE coalesce(own.rsvp, series.rsvp) = 'accepted')::bigint AS accepted,
                       count(*) FILTER (WHERE coalesce(own.rsvp, series.rsvp) = 'declined')::bigint AS declined,
                       count(*) FILTER (WHERE coalesce(own.rsvp, series.rsvp) = 'tentative')::bigint AS tentative,
                       count(*) FILTER (WHERE coalesce(own.attended, series.attended))::bigint AS attended
                FROM metric_meeting_occurrences o
                JOIN metric_meetings m ON m.meeting_id = o.meeting_id AND NOT m.cancelled
                JOIN metric_meeting_invitees i ON i.meeting_id = o.meeting_id AND (u.role = '*' OR i.role = u.role)
                LEFT JOIN metric_meeting_answers own
                       ON own.meeting_id = o.meeting_id AND own.stakeholder_id = i.stakeholder_id AND own.occurrence_start = o.occurrence_start
                LEFT JOIN metric_meeting_answers series
                       ON series.meeting_id = o.meeting_id AND series.stakeholder_id = i.stakeholder_id AND series.occurrence_start = \(seriesAnswer)
                WHERE NOT o.cancelled AND o.occurrence_start >= u.s AND o.occurrence_start < u.e AND (u.area = '*' OR m.area = u.area)
            ) r
            ORDER BY u.n
            """)
        return try result.map { row in
            let (ordinal, scheduled, held, invitations, accepted, declined, tentative, attended) =
                try row.decode((Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64).self)
            return ComputedRow(
                row: sorted[Int(ordinal) - 1], count: invitations,
                values: [Double(scheduled), Double(held), Double(invitations), Double(accepted), Double(declined), Double(tentative), Double(attended),
                         invitations > 0 ? Double(attended) / Double(invitations) : nil])
        }
    }
}
