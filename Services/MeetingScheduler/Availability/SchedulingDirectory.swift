import Contracts
import Foundation
import Postgres
import ServiceKit

/// Venues, stakeholders' weekly availability and busy blocks: what the solver plans around.
public struct SchedulingDirectory: Sendable {
    public struct Venue: Codable, Sendable, Equatable {
        @LowercaseUUID public var id: UUID
        public var name: String
        public var area: String?
        public var capacity: Int
        public var accessible: Bool
        public var timezone: String
        public var opensAt: String
        public var closesAt: String
    }

    let postgres: PostgresClient

    public init(postgres: PostgresClient) { self.postgres = postgres }

    public func addVenue(_ venue: Venue) async throws {
        try await postgres.execute("""
            INSERT INTO venues (id, name, area, capacity, accessible, timezone, opens_at, closes_at)
            VALUES (\(venue.id), \(venue.name), \(venue.area), \(venue.capacity), \(venue.accessible), \(venue.timezone),
                    \(venue.opensAt)::time, \(venue.closesAt)::time)
            """)
    }

    public func venues() async throws -> [Venue] {
        try await postgres.query("""
            SELECT id, name, area, capacity, accessible, timezone, to_char(opens_at, 'HH24:MI'), to_char(closes_at, 'HH24:MI') FROM venues ORDER BY name, id
            """).map { row in
            let (id, name, area, capacity, accessible, zone, opens, closes) = try row.decode((UUID, String, String?, Int, Bool, String, String, String).self)
            return Venue(id: id, name: name, area: area, capacity: capacity, accessible: accessible, timezone: zone, opensAt: opens, closesAt: closes)
        }
    }

    /// Replaces the stakeholder's weekly windows; false when there is no such stakeholder.
    public func setAvailability(_ stakeholder: UUID, windows: [WeeklyAvailability.Window]) async throws -> Bool {
        try await postgres.withTransaction { connection in
            guard try await connection.query("SELECT 1 FROM stakeholders WHERE id = \(stakeholder) FOR UPDATE").contains(where: { _ in true }) else { return false }
            try await connection.execute("DELETE FROM stakeholder_availability WHERE stakeholder_id = \(stakeholder)")
            guard !windows.isEmpty else { return true }
            try await connection.execute("""
                INSERT INTO stakeholder_availability (stakeholder_id, weekday, starts_at, ends_at)
                SELECT \(stakeholder), u.weekday, make_interval(mins => u.start_minute)::time, make_interval(mins => u.end_minute)::time
                FROM unnest(\(windows.map(\.weekday))::int[], \(windows.map(\.startMinute))::int[], \(windows.map(\.endMinute))::int[])
                     AS u(weekday, start_minute, end_minute)
                """)
            return true
        }
    }

    /// A busy block; false when there is no such stakeholder.
    public func addBusy(_ stakeholder: UUID, id: UUID, during: Range<Date>, reason: String?) async throws -> Bool {
        guard try await postgres.query("SELECT 1 FROM stakeholders WHERE id = \(stakeholder)").contains(where: { _ in true }) else { return false }
        try await postgres.execute("""
            INSERT INTO stakeholder_busy (id, stakeholder_id, during, reason) VALUES (\(id), \(stakeholder), tstzrange(\(during.lowerBound), \(during.upperBound)), \(reason))
            """)
        return true
    }
}
