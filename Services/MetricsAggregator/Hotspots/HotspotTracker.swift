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

    /// The area most of each cell's recent incidents were counted in (cells straddle borders).
    func dominantAreas(_ cells: [String], fromDay: Int64, toDay: Int64, in connection: PostgresConnection) async throws -> [String: String] {
        var areas: [String: String] = [:]
        for row in try await connection.query("""
            SELECT DISTINCT ON (cell) cell, area_id FROM metric_cell_counts
            WHERE cell = ANY(\(cells)) AND day BETWEEN \(fromDay) AND \(toDay)
            GROUP BY cell, area_id ORDER BY cell, sum(count) DESC, area_id
            """) {
            let (cell, area) = try row.decode((String, String).self)
            areas[cell] = area
        }
        return areas
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
        // Whole UTC days: the 7 up to and including the watermark's, and the 28 before.
        let today = Int64((reference.timeIntervalSince1970 / 86_400).rounded(.down))
        let dayEnd = Date(timeIntervalSince1970: Double(today + 1) * 86_400)
        let recentFirst = today - 6, baselineFirst = today - 34
        // The baseline covers the days since the first incident seen anywhere within it: after
        // a gap in the data (a source that stopped for a month) a cell's empty baseline says
        // nothing, and every cell would otherwise look like a hotspot.
        let firstSeen = try await connection.query("""
            SELECT min(occurred_at) FROM metric_incident_state WHERE occurred_at >= \(Date(timeIntervalSince1970: Double(baselineFirst) * 86_400))
            """).first?.decode(0, as: Date?.self) ?? nil
        let firstDay = firstSeen.map { Date(timeIntervalSince1970: ($0.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400) }
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
            // The area is filled in below, for the cells that have something to report.
            let area = ""
            if let episode = open[cell] {
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
        let areas = try await dominantAreas(episodes.map(\.cell), fromDay: recentFirst, toDay: today, in: connection)
        for index in episodes.indices { episodes[index].area = areas[episodes[index].cell] ?? "unassigned" }
        try await connection.execute("""
            INSERT INTO metric_hotspot_episodes (episode_id, cell, area_id, phase, count_7d, baseline_28d, p_value, started_at, updated_at, ended_at)
            SELECT * FROM unnest(\(episodes.map(\.episodeId))::uuid[], \(episodes.map(\.cell))::text[], \(episodes.map(\.area))::text[],
                                 \(episodes.map(\.phase.rawValue))::text[], \(episodes.map(\.count7d))::int[], \(episodes.map(\.baseline28d))::float8[],
                                 \(episodes.map(\.pValue))::float8[], \(episodes.map(\.startedAt))::timestamptz[], \(episodes.map(\.updatedAt))::timestamptz[],
                                 \(episodes.map(\.endedAt))::timestamptz[])
            ON CONFLICT (episode_id) DO UPDATE SET
                area_id = EXCLUDED.area_id, phase = EXCLUDED.phase, count_7d = EXCLUDED.count_7d, baseline_28d = EXCLUDED.baseline_28d,
                p_value = EXCLUDED.p_value, updated_at = EXCLUDED.updated_at, ended_at = EXCLUDED.ended_at
            """)
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
