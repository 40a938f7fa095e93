import Contracts
import Foundation
import Postgres

/// Reads what the solver needs from PostgreSQL, inside the caller's transaction: invitees'
/// weekly windows, busy blocks and other meetings; venues' opening hours and bookings.
struct AvailabilityLoader {
    struct InviteeRecord: Sendable, Equatable {
        var id: UUID
        var name: String
        var role: StakeholderRole
        var timeZone: TimeZone
        var required: Bool
    }

    let connection: PostgresConnection
    /// A meeting being rescheduled does not block itself.
    var excludingMeeting: UUID?

    /// Resolves ids and "role R subscribed to area A" to stakeholders; unknown ids are returned
    /// as field errors. An invitee named twice is required if either mention says so.
    func invitees(_ specs: [MeetingRequest.InviteeSpec]) async throws -> (records: [InviteeRecord], unknown: [(index: Int, id: UUID)]) {
        var order: [UUID] = []
        var required: [UUID: Bool] = [:]
        var unknown: [(Int, UUID)] = []
        var rows: [UUID: (String, String, String)] = [:]
        let ids = specs.compactMap { spec -> UUID? in if case .stakeholder(let id) = spec.selector { id } else { nil } }
        for row in try await connection.query("SELECT id, name, role, timezone FROM stakeholders WHERE id = ANY(\(ids))") {
            let (id, name, role, zone) = try row.decode((UUID, String, String, String).self)
            rows[id] = (name, role, zone)
        }
        for (index, spec) in specs.enumerated() {
            var matched: [UUID] = []
            switch spec.selector {
            case .stakeholder(let id):
                if rows[id] == nil { unknown.append((index, id)) } else { matched = [id] }
            case .subscribers(let role, let area):
                for row in try await connection.query("""
                    SELECT DISTINCT s.id, s.name, s.role, s.timezone FROM stakeholders s JOIN subscriptions sub ON sub.stakeholder_id = s.id
                    WHERE s.role = \(role.rawValue) AND \(area) = ANY(sub.areas) ORDER BY s.id
                    """) {
                    let (id, name, roleText, zone) = try row.decode((UUID, String, String, String).self)
                    rows[id] = (name, roleText, zone)
                    matched.append(id)
                }
            }
            for id in matched {
                if required[id] == nil { order.append(id) }
                required[id] = (required[id] ?? false) || spec.required
            }
        }
        let records = order.compactMap { id -> InviteeRecord? in
            guard let (name, role, zone) = rows[id], let role = StakeholderRole(rawValue: role) else { return nil }
            return InviteeRecord(id: id, name: name, role: role, timeZone: TimeZone(identifier: zone) ?? .gmt, required: required[id] ?? true)
        }
        return (records, unknown)
    }

    /// When each invitee is free inside `horizon` (seconds since 1970).
    func free(_ invitees: [InviteeRecord], horizon: Range<Int64>) async throws -> [UUID: IntervalSet] {
        let ids = invitees.map(\.id)
        let (from, to) = (Self.date(horizon.lowerBound), Self.date(horizon.upperBound))
        var windows: [UUID: [WeeklyAvailability.Window]] = [:]
        for row in try await connection.query("""
            SELECT stakeholder_id, weekday::int, (extract(epoch FROM starts_at) / 60)::int, (extract(epoch FROM ends_at) / 60)::int
            FROM stakeholder_availability WHERE stakeholder_id = ANY(\(ids))
            """) {
            let (id, weekday, start, end) = try row.decode((UUID, Int, Int, Int).self)
            windows[id, default: []].append(.init(weekday: weekday, startMinute: start, endMinute: end))
        }
        var taken: [UUID: [Range<Int64>]] = [:]
        for row in try await connection.query("""
            SELECT stakeholder_id, greatest(lower(during), \(from)), least(upper(during), \(to)) FROM stakeholder_busy
            WHERE stakeholder_id = ANY(\(ids)) AND during && tstzrange(\(from), \(to))
            UNION ALL
            SELECT i.stakeholder_id, lower(o.venue_span), upper(o.venue_span)
            FROM meeting_invitees i JOIN meeting_occurrences o ON o.meeting_id = i.meeting_id
            WHERE i.stakeholder_id = ANY(\(ids)) AND o.status = 'scheduled' AND o.venue_span && tstzrange(\(from), \(to))
              AND o.meeting_id IS DISTINCT FROM \(excludingMeeting)
            UNION ALL
            SELECT stakeholder_id, lower(span), upper(span) FROM attendee_bookings
            WHERE stakeholder_id = ANY(\(ids)) AND span && tstzrange(\(from), \(to)) AND meeting_id IS DISTINCT FROM \(excludingMeeting)
            """) {
            let (id, start, end) = try row.decode((UUID, Date, Date).self)
            taken[id, default: []].append(Self.seconds(start)..<Self.seconds(end))
        }
        var result: [UUID: IntervalSet] = [:]
        for invitee in invitees {
            let weekly = WeeklyAvailability(timeZone: invitee.timeZone, windows: windows[invitee.id] ?? [])
            result[invitee.id] = weekly.free(in: horizon).subtracting(taken[invitee.id] ?? [])
        }
        return result
    }

    struct VenueRecord: Sendable {
        var id: UUID
        var name: String
        var capacity: Int
        var accessible: Bool
    }

    /// Venues meeting `needs`, each free during its opening hours minus its bookings.
    func venues(_ needs: SchedulingProblem.VenueNeeds, horizon: Range<Int64>) async throws -> ([SchedulingProblem.Venue], [UUID: String]) {
        let (from, to) = (Self.date(horizon.lowerBound), Self.date(horizon.upperBound))
        var venues: [(VenueRecord, WeeklyAvailability)] = []
        for row in try await connection.query("""
            SELECT id, name, capacity, accessible, timezone, (extract(epoch FROM opens_at) / 60)::int, (extract(epoch FROM closes_at) / 60)::int
            FROM venues WHERE capacity >= \(needs.minimumCapacity) AND (accessible OR NOT \(needs.accessible)) ORDER BY id
            """) {
            let (id, name, capacity, accessible, zone, opens, closes) = try row.decode((UUID, String, Int, Bool, String, Int, Int).self)
            let hours = WeeklyAvailability(
                timeZone: TimeZone(identifier: zone) ?? .gmt, windows: (1...7).map { .init(weekday: $0, startMinute: opens, endMinute: closes) })
            venues.append((VenueRecord(id: id, name: name, capacity: capacity, accessible: accessible), hours))
        }
        var taken: [UUID: [Range<Int64>]] = [:]
        for row in try await connection.query("""
            SELECT venue_id, lower(venue_span), upper(venue_span) FROM meeting_occurrences
            WHERE status = 'scheduled' AND venue_id = ANY(\(venues.map(\.0.id))) AND venue_span && tstzrange(\(from), \(to))
              AND meeting_id IS DISTINCT FROM \(excludingMeeting)
            """) {
            let (id, start, end) = try row.decode((UUID, Date, Date).self)
            taken[id, default: []].append(Self.seconds(start)..<Self.seconds(end))
        }
        let problemVenues = venues.map { record, hours in
            SchedulingProblem.Venue(
                id: record.id, capacity: record.capacity, accessible: record.accessible,
                free: hours.free(in: horizon).subtracting(taken[record.id] ?? []))
        }
        return (problemVenues, Dictionary(uniqueKeysWithValues: venues.map { ($0.0.id, $0.0.name) }))
    }

    static func seconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
    static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }
}
