import Contracts
import Foundation
import Postgres
import ServiceKit

/// Hotspot episodes on `metrics.hotspots`: re-evaluates, in the batch's transaction, every
/// cell the batch touched and every cell with an open episode, at the event-time watermark,
/// over whole UTC days (`metric_cell_counts`): the watermark's day and the six before it,
/// against the 28 days before those.
/// A cell turning significant starts an episode (id derived from cell and start, so a
/// replay produces the same id), a changed count updates it, losing significance ends it.
struct HotspotTracker: Sendable {
    static let namespace = UUID(uuidString: "6f1c9d0e-2b1a-4c7e-9a51-3d2f8e4b7c10")!

    let rule: HotspotRule

    struct OpenEpisode {
        var id: UUID
        var startedAt: Date
        var count7d: Int
        var pValue: Double
    }

    /// The area most of the cell's recent incidents were counted in (cells straddle borders).
    func dominantArea(_ cell: String, from: Date, to: Date, in connection: PostgresConnection) async throws -> String {
        try await connection.query("""
            SELECT area_id FROM metric_incident_state WHERE cell = \(cell) AND occurred_at >= \(from) AND occurred_at < \(to)
            GROUP BY area_id ORDER BY count(*) DESC, area_id LIMIT 1
            """).first?.decode(0, as: String.self) ?? "unassigned"
    }

    func evaluate(cells touched: Set<String>, at reference: Date, now: Date, in connection: PostgresConnection) async throws -> [HotspotEpisode] {
        var open: [String: OpenEpisode] = [:]
        for row in try await connection.query("""
            SELECT cell, episode_id, started_at, count_7d, p_value FROM metric_hotspot_episodes WHERE ended_at IS NULL
            """) {
            let (cell, id, started, count, pValue) = try row.decode((String, UUID, Date, Int, Double).self)
            open[cell] = OpenEpisode(id: id, startedAt: started, count7d: count, pValue: pValue)
        }
        let cells = Array(touched.union(open.keys)).sorted()
        guard !cells.isEmpty else { return [] }
        let firstSeen = try await connection.query("SELECT min(occurred_at) FROM metric_incident_state").first?.decode(0, as: Date?.self) ?? nil
        // Whole UTC days: the 7 up to and including the watermark's, and the 28 before.
        let today = Int64((reference.timeIntervalSince1970 / 86_400).rounded(.down))
        let dayEnd = Date(timeIntervalSince1970: Double(today + 1) * 86_400)
        let firstDay = firstSeen.map { Date(timeIntervalSince1970: ($0.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400) }
        let recentFirst = today - 6, baselineFirst = today - 34
        var evaluated: [(cell: String, recent: Int, evaluation: HotspotRule.Evaluation?)] = []
        for row in try await connection.query("""
            SELECT c.cell,
                   coalesce(sum(d.count) FILTER (WHERE d.day >= \(recentFirst)), 0)::bigint,
                   coalesce(sum(d.count) FILTER (WHERE d.day < \(recentFirst)), 0)::bigint
            FROM unnest(\(cells)::text[]) AS c(cell)
            LEFT JOIN metric_cell_counts d ON d.cell = c.cell AND d.day BETWEEN \(baselineFirst) AND \(today)
            GROUP BY c.cell ORDER BY c.cell
            """) {
            let (cell, recent, earlier) = try row.decode((String, Int64, Int64).self)
            evaluated.append((cell, Int(recent), rule.evaluate(recent: Int(recent), earlier: Int(earlier), at: dayEnd, firstSeen: firstDay)))
        }
        // The size of the tested family, needed only when some cell is a candidate at all.
        var activeCells = 1
        if rule.familyWise, evaluated.contains(where: { $0.evaluation?.significant == true }) {
            activeCells = try await connection.query("""
                SELECT count(DISTINCT cell)::bigint FROM metric_cell_counts WHERE day BETWEEN \(baselineFirst) AND \(today) AND count > 0
                """).first.map { Int(try $0.decode(0, as: Int64.self)) } ?? 1
        }
        var episodes: [HotspotEpisode] = []
        for (cell, recent, evaluation) in evaluated {
            let significant = evaluation.map { rule.significant($0, activeCells: activeCells) } ?? false
            let open = open[cell]
            guard significant || open != nil, !(significant && open != nil && evaluation?.count7d == open?.count7d) else { continue }
            let area = try await dominantArea(cell, from: Date(timeIntervalSince1970: Double(recentFirst) * 86_400), to: dayEnd, in: connection)
            if let episode = open {
                if !significant {
                    episodes.append(HotspotEpisode(
                        episodeId: episode.id, cell: cell, area: area, phase: .end, count7d: recent, baseline28d: evaluation?.expected ?? 0,
                        pValue: evaluation?.pValue ?? 1, startedAt: episode.startedAt, updatedAt: reference, endedAt: reference))
                } else if let evaluation, evaluation.count7d != episode.count7d {
                    episodes.append(HotspotEpisode(
                        episodeId: episode.id, cell: cell, area: area, phase: .update, count7d: recent, baseline28d: evaluation.expected,
                        pValue: evaluation.pValue, startedAt: episode.startedAt, updatedAt: reference))
                }
            } else if let evaluation, significant {
                let id = UUID(version5: Self.namespace, name: Array("\(cell)|\(MetricTime.string(reference))".utf8))
                episodes.append(HotspotEpisode(
                    episodeId: id, cell: cell, area: area, phase: .start, count7d: recent, baseline28d: evaluation.expected,
                    pValue: evaluation.pValue, startedAt: reference))
            }
        }
        guard !episodes.isEmpty else { return [] }
        for episode in episodes {
            try await connection.execute("""
                INSERT INTO metric_hotspot_episodes (episode_id, cell, area_id, phase, count_7d, baseline_28d, p_value, started_at, updated_at, ended_at)
                VALUES (\(episode.episodeId), \(episode.cell), \(episode.area), \(episode.phase.rawValue), \(episode.count7d), \(episode.baseline28d),
                        \(episode.pValue), \(episode.startedAt), \(episode.updatedAt), \(episode.endedAt))
                ON CONFLICT (episode_id) DO UPDATE SET
                    area_id = EXCLUDED.area_id, phase = EXCLUDED.phase, count_7d = EXCLUDED.count_7d, baseline_28d = EXCLUDED.baseline_28d,
                    p_value = EXCLUDED.p_value, updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at
                """)
        }
        let events = try episodes.map { episode in
            let event = try CloudEvent(
                id: "\(episode.episodeId.uuidString.lowercased())#\(episode.phase.rawValue)#\(MetricTime.string(episode.updatedAt ?? episode.startedAt))#\(episode.count7d)",
                source: MetricMessage.source, type: EventType.hotspot, time: now, subject: episode.cell, payload: episode)
            return OutboxEvent(topic: .metricsHotspots, key: episode.cell, event: event)
        }
        try await Outbox.enqueue(events, in: connection)
        return episodes
    }
}
