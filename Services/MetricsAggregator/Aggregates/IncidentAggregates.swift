import Foundation
import Postgres

/// The incident part of a flush: which revisions change what the counts reflect
/// (`metric_incident_state`), the count deltas per window row, the hotspot cell counts and
/// the response-time rows to recompute.
///
/// A first revision (nearly every record of a historical import) is settled by inserting
/// its state: if a state is already there, the record is a duplicate or was overtaken, and
/// changes nothing. Only incidents with later revisions read their stored state first.
enum IncidentAggregates {
    struct Result {
        var counter: IncidentCounter
        /// The latest `occurred_at` among the revisions applied.
        var latest: Date?
    }

    static func apply(_ incidents: [CountedIncident], cache: WindowCache, timer: inout PhaseTimer, in connection: PostgresConnection) async throws -> Result {
        var firsts: [UUID: CountedIncident] = [:]
        var later: Set<UUID> = []
        for incident in incidents {
            if incident.revision > 1 { later.insert(incident.id) } else if firsts[incident.id] == nil { firsts[incident.id] = incident }
        }
        for id in later { firsts[id] = nil }
        var counter = IncidentCounter(cache: cache)
        var latest: Date?

        if !firsts.isEmpty {
            let list = firsts.values.sorted { $0.id.precedes($1.id) }
            let inserted = try await insertNew(list, in: connection)
            timer.mark("state_insert")
            for incident in list where inserted.contains(incident.id) {
                counter.apply(incident, previous: nil)
                latest = max(latest ?? incident.occurredAt, incident.occurredAt)
            }
        }
        if !later.isEmpty {
            let previous = try await load(Array(later), in: connection)
            var touched: Set<UUID> = []
            for incident in incidents where later.contains(incident.id) {
                if counter.apply(incident, previous: previous[incident.id]) {
                    touched.insert(incident.id)
                    latest = max(latest ?? incident.occurredAt, incident.occurredAt)
                }
            }
            try await save(touched.compactMap { counter.changed[$0] }, in: connection)
        }
        timer.mark("counting")
        return Result(counter: counter, latest: latest)
    }

    /// Inserts the states of first revisions; returns the ids that were new.
    static func insertNew(_ all: [CountedIncident], in connection: PostgresConnection) async throws -> Set<UUID> {
        var ids: Set<UUID> = []
        ids.reserveCapacity(all.count)
        for start in stride(from: 0, to: all.count, by: WindowRows.statementRows) {
            let incidents = all[start..<min(start + WindowRows.statementRows, all.count)]
            let rows = try await connection.query("""
            INSERT INTO metric_incident_state (incident_id, revision, occurred_at, reported_at, closed_at, area_id, category, category_group, cell, sensitive)
            SELECT * FROM unnest(\(incidents.map(\.id))::uuid[], \(incidents.map(\.revision))::int[], \(incidents.map(\.occurredAt))::timestamptz[],
                                 \(incidents.map(\.reportedAt))::timestamptz[], \(incidents.map(\.closedAt))::timestamptz[], \(incidents.map(\.area))::text[],
                                 \(incidents.map(\.category))::text[], \(incidents.map(\.group))::text[], \(incidents.map(\.cell))::text[], \(incidents.map(\.sensitive))::boolean[])
            ON CONFLICT (incident_id) DO NOTHING
            RETURNING incident_id
            """)
            for row in rows { ids.insert(try row.decode(0, as: UUID.self)) }
        }
        return ids
    }

    /// The stored states of `ids`, locked until the flush commits.
    static func load(_ ids: [UUID], in connection: PostgresConnection) async throws -> [UUID: CountedIncident] {
        var result: [UUID: CountedIncident] = [:]
        for row in try await connection.query("""
            SELECT incident_id, revision, occurred_at, reported_at, closed_at, area_id, category, category_group, cell, sensitive
            FROM metric_incident_state WHERE incident_id = ANY(\(ids)) ORDER BY incident_id FOR UPDATE
            """) {
            let (id, revision, occurred, reported, closed, area, category, group, cell, sensitive) =
                try row.decode((UUID, Int, Date, Date?, Date?, String, String, String, String?, Bool).self)
            result[id] = CountedIncident(
                id: id, revision: revision, occurredAt: occurred, reportedAt: reported, closedAt: closed, area: area, category: category,
                group: group, cell: cell, sensitive: sensitive)
        }
        return result
    }

    static func save(_ incidents: [CountedIncident], in connection: PostgresConnection) async throws {
        guard !incidents.isEmpty else { return }
        let sorted = incidents.sorted { $0.id.precedes($1.id) }
        try await connection.execute("""
            INSERT INTO metric_incident_state (incident_id, revision, occurred_at, reported_at, closed_at, area_id, category, category_group, cell, sensitive)
            SELECT * FROM unnest(\(sorted.map(\.id))::uuid[], \(sorted.map(\.revision))::int[], \(sorted.map(\.occurredAt))::timestamptz[],
                                 \(sorted.map(\.reportedAt))::timestamptz[], \(sorted.map(\.closedAt))::timestamptz[], \(sorted.map(\.area))::text[],
                                 \(sorted.map(\.category))::text[], \(sorted.map(\.group))::text[], \(sorted.map(\.cell))::text[], \(sorted.map(\.sensitive))::boolean[])
            ON CONFLICT (incident_id) DO UPDATE SET
                revision = EXCLUDED.revision, occurred_at = EXCLUDED.occurred_at, reported_at = EXCLUDED.reported_at,
                closed_at = EXCLUDED.closed_at, area_id = EXCLUDED.area_id, category = EXCLUDED.category,
                category_group = EXCLUDED.category_group, cell = EXCLUDED.cell, sensitive = EXCLUDED.sensitive, updated_at = now()
            """)
    }

    static func writeCellCounts(_ deltas: [IncidentCounter.CellDay: Int], in connection: PostgresConnection) async throws {
        let all = deltas.filter { $0.value != 0 }.sorted { ($0.key.cell, $0.key.day, $0.key.area) < ($1.key.cell, $1.key.day, $1.key.area) }
        for start in stride(from: 0, to: all.count, by: WindowRows.statementRows) {
            let changes = all[start..<min(start + WindowRows.statementRows, all.count)]
            try await connection.execute("""
            INSERT INTO metric_cell_counts (cell, day, area_id, count)
            SELECT * FROM unnest(\(changes.map(\.key.cell))::text[], \(changes.map(\.key.day))::bigint[], \(changes.map(\.key.area))::text[],
                                 \(changes.map(\.value))::int[])
            ON CONFLICT (cell, day, area_id) DO UPDATE SET count = metric_cell_counts.count + EXCLUDED.count
            """)
        }
    }
}
