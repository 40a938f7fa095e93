import Foundation
import Postgres

/// Reported → closed durations (metric `response-times`): n, p50, p90 and mean per window and
/// area × category (and area and coalition totals), exact. A window's durations are
/// recomputed from `metric_incident_state` whenever a closed incident enters or leaves it,
/// so a revision that reopens, re-closes or moves an incident is reflected exactly.
///
/// The duration runs from `reported_at` (else `occurred_at`) to `closed_at` of the latest
/// revision; an incident closed before it was reported is left out (a source's clock error).
/// Percentiles interpolate linearly between ranks (`percentile_cont`).
enum ResponseTimes {
    static func recompute(_ keys: Set<WindowKey>, in connection: PostgresConnection) async throws -> [ComputedRow] {
        guard !keys.isEmpty else { return [] }
        let sorted = keys.sorted { $0.messageKey < $1.messageKey }
        let rows = try await connection.query("""
            SELECT u.n, r.n, r.p50, r.p90, r.mean
            FROM unnest(\(sorted.map(\.start))::timestamptz[], \(sorted.map(\.end))::timestamptz[],
                        \(sorted.map(\.dimensions.area))::text[], \(sorted.map(\.dimensions.category))::text[]) WITH ORDINALITY AS u(s, e, area, category, n)
            CROSS JOIN LATERAL (
                SELECT count(*)::bigint AS n,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90,
                       avg(seconds)::double precision AS mean
                FROM (SELECT extract(epoch FROM closed_at - coalesce(reported_at, occurred_at))::double precision AS seconds
                      FROM metric_incident_state
                      WHERE occurred_at >= u.s AND occurred_at < u.e AND closed_at IS NOT NULL
                        AND closed_at >= coalesce(reported_at, occurred_at)
                        AND (u.area = '*' OR area_id = u.area) AND (u.category = '*' OR category = u.category)) durations
            ) r
            ORDER BY u.n
            """)
        return try rows.map { row in
            let (ordinal, count, p50, p90, mean) = try row.decode((Int64, Int64, Double?, Double?, Double?).self)
            return ComputedRow(row: sorted[Int(ordinal) - 1].row, count: count, values: [p50, p90, mean])
        }
    }
}
