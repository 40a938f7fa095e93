import Contracts
import Foundation
import Postgres

extension MetricsStore {
    /// What `rebuild` did.
    public struct RebuildSummary: Sendable {
        public var incidents = 0
        public var changedWindows = 0
    }

    /// Recounts the incidents that occurred in [from, to) from the `incidents` table (their
    /// latest revision as stored there, under the current category mapping), in one
    /// transaction: each incident's old contribution is taken away and its current one added,
    /// and every window that changes is re-emitted. Incidents that moved out of the range
    /// are recounted too. Incidents deleted from `incidents` are left as they are.
    public func rebuild(from: Date, to: Date, now: Date = Date()) async throws -> RebuildSummary {
        let cache = windowCache
        let summary = try await postgres.withTransaction { connection in
            var summary = RebuildSummary()
            var current: [UUID: CountedIncident] = [:]
            for row in try await connection.query("""
                SELECT document::text FROM incidents
                WHERE (occurred_at >= \(from) AND occurred_at < \(to))
                   OR id IN (SELECT incident_id FROM metric_incident_state WHERE occurred_at >= \(from) AND occurred_at < \(to))
                """) {
                let incident = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(try row.decode(0, as: String.self).utf8))
                current[incident.id] = CountedIncident(incident)
            }
            let previous = try await IncidentAggregates.load(Array(current.keys), in: connection)
            var counter = IncidentCounter(cache: cache)
            for (id, incident) in current.sorted(by: { $0.key.precedes($1.key) }) where previous[id] != incident {
                counter.replace(previous[id], with: incident)
            }
            summary.incidents = current.count
            try await IncidentAggregates.save(Array(counter.changed.values), in: connection)
            var outcome = Outcome()
            var timer = PhaseTimer()
            let watermark = try await connection.query("SELECT max(occurred_at) FROM metric_incident_state").first?.decode(0, as: Date?.self) ?? nil
            let updates = try await write(counter, watermark: watermark.map { min($0, now.addingTimeInterval(Self.watermarkLead)) }, now: now, outcome: &outcome, timer: &timer, in: connection)
            try await MetricUpdateLog.append(updates, in: connection)
            summary.changedWindows = updates.count
            return summary
        }
        if summary.changedWindows > 0 { signal.raise() }
        return summary
    }
}
