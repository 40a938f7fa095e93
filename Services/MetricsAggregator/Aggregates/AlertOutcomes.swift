import Foundation
import Postgres

/// Alert deliveries (metric `alerts`, topic `metrics.alerts`): per window of `finished_at`
/// and channel × role (and channel, role and overall totals), how many deliveries ended delivered,
/// failed, suppressed or cancelled, the success ratio (delivered / (delivered + failed)) and
/// the latency of delivered ones (incident ingested → delivered) as p50, p95 and mean, exact.
///
/// Each delivery counts once: its final state is kept in `metric_alert_deliveries` by
/// delivery id (the idempotency key), and a redelivered or republished outcome changes
/// nothing. Changed rows are recomputed from that table.
enum AlertOutcomes {
    static func dimensions(_ outcome: DeliveryOutcomeInput) -> [DimensionSet] {
        [
            DimensionSet(.alerts, outcome.channel, outcome.role), DimensionSet(.alerts, outcome.channel, "*"),
            DimensionSet(.alerts, "*", outcome.role), DimensionSet(.alerts, "*", "*"),
        ]
    }

    /// Records the outcomes not seen before; returns the rows to recompute.
    static func record(_ outcomes: [DeliveryOutcomeInput], cache: inout WindowCache, in connection: PostgresConnection) async throws -> Set<MetricRow> {
        var unique: [UUID: DeliveryOutcomeInput] = [:]
        for outcome in outcomes where unique[outcome.deliveryId] == nil { unique[outcome.deliveryId] = outcome }
        let list = unique.values.sorted { $0.deliveryId.precedes($1.deliveryId) }
        guard !list.isEmpty else { return [] }
        let inserted = try await connection.query("""
            INSERT INTO metric_alert_deliveries (delivery_id, finished_at, channel, role, outcome, latency_ms)
            SELECT * FROM unnest(\(list.map(\.deliveryId))::uuid[], \(list.map(\.finishedAt))::timestamptz[], \(list.map(\.channel))::text[],
                                 \(list.map(\.role))::text[], \(list.map(\.outcome.rawValue))::text[], \(list.map { $0.latencyMs.map(Int64.init) })::bigint[])
            ON CONFLICT (delivery_id) DO NOTHING
            RETURNING delivery_id
            """).map { try $0.decode(0, as: UUID.self) }
        var rows: Set<MetricRow> = []
        for id in inserted {
            guard let outcome = unique[id] else { continue }
            rows.formUnion(MetricRow.rows(containing: outcome.finishedAt, dimensions: dimensions(outcome), cache: &cache))
        }
        return rows
    }

    static func recompute(_ rows: Set<MetricRow>, in connection: PostgresConnection) async throws -> [ComputedRow] {
        guard !rows.isEmpty else { return [] }
        let sorted = rows.sorted { $0.messageKey < $1.messageKey }
        let result = try await connection.query("""
            SELECT u.n, r.total, r.delivered, r.failed, r.suppressed, r.cancelled, r.p50, r.p95, r.mean
            FROM unnest(\(sorted.map(\.start))::timestamptz[], \(sorted.map(\.end))::timestamptz[],
                        \(sorted.map { $0.dimensions.object["channel"] ?? "*" })::text[], \(sorted.map { $0.dimensions.object["role"] ?? "*" })::text[])
                 WITH ORDINALITY AS u(s, e, channel, role, n)
            CROSS JOIN LATERAL (
                SELECT count(*)::bigint AS total,
                       count(*) FILTER (WHERE outcome = 'delivered')::bigint AS delivered,
                       count(*) FILTER (WHERE outcome = 'failed')::bigint AS failed,
                       count(*) FILTER (WHERE outcome = 'suppressed')::bigint AS suppressed,
                       count(*) FILTER (WHERE outcome = 'cancelled')::bigint AS cancelled,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE outcome = 'delivered') AS p50,
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE outcome = 'delivered') AS p95,
                       (avg(latency_ms) FILTER (WHERE outcome = 'delivered'))::double precision AS mean
                FROM metric_alert_deliveries
                WHERE finished_at >= u.s AND finished_at < u.e
                  AND (u.channel = '*' OR channel = u.channel) AND (u.role = '*' OR role = u.role)
            ) r
            ORDER BY u.n
            """)
        return try result.map { row in
            let (ordinal, total, delivered, failed, suppressed, cancelled, p50, p95, mean) =
                try row.decode((Int64, Int64, Int64, Int64, Int64, Int64, Double?, Double?, Double?).self)
            let attempted = delivered + failed
            return ComputedRow(
                row: sorted[Int(ordinal) - 1], count: total,
                values: [Double(delivered), Double(failed), Double(suppressed), Double(cancelled),
                         attempted > 0 ? Double(delivered) / Double(attempted) : nil, p50, p95, mean])
        }
    }
}
