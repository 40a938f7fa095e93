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
    static let metric = "response-times"

    static func recompute(_ keys: Set<WindowKey>, in connection: PostgresConnection) async throws -> [IncidentCountStore.ChangedRow] {
        guard !keys.isEmpty else { return [] }
        let sorted = keys.sorted { $0.messageKey < $1.messageKey }
        var byKey: [String: WindowKey] = [:]
        for key in sorted { byKey[IncidentCountStore.lookupKey(key.granularity.rawValue, key.dimensions.key, Int64(key.start.timeIntervalSince1970))] = key }
        let rows = try await connection.query("""
            WITH computed AS (
                SELECT u.g, u.s, u.k, u.e, u.d, r.n, r.p50, r.p90, r.mean
                FROM unnest(\(sorted.map(\.granularity.rawValue))::text[], \(sorted.map(\.start))::timestamptz[], \(sorted.map(\.end))::timestamptz[],
                            \(sorted.map(\.dimensions.key))::text[], \(sorted.map { IncidentCountStore.json($0.dimensions.object) })::text[],
                            \(sorted.map(\.dimensions.area))::text[], \(sorted.map(\.dimensions.category))::text[]) AS u(g, s, e, k, d, area, category)
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
            )
            INSERT INTO metric_windows (metric, granularity, window_start, dimension_key, window_end, dimensions, count, "values")
            SELECT \(metric), g, s, k, e, d::jsonb, n, jsonb_build_object('p50_seconds', p50, 'p90_seconds', p90, 'mean_seconds', mean)
            FROM computed
            ON CONFLICT (metric, granularity, window_start, dimension_key)
            DO UPDATE SET count = EXCLUDED.count, "values" = EXCLUDED."values", revision = metric_windows.revision + 1, updated_at = now()
            WHERE (metric_windows.count, metric_windows."values") IS DISTINCT FROM (EXCLUDED.count, EXCLUDED."values")
            RETURNING granularity, extract(epoch FROM window_start)::bigint, dimension_key, count, revision,
                      ("values" ->> 'p50_seconds')::double precision, ("values" ->> 'p90_seconds')::double precision,
                      ("values" ->> 'mean_seconds')::double precision
            """)
        return try rows.compactMap { row in
            let (granularity, epoch, dimensionKey, count, revision, p50, p90, mean) =
                try row.decode((String, Int64, String, Int64, Int64, Double?, Double?, Double?).self)
            guard let key = byKey[IncidentCountStore.lookupKey(granularity, dimensionKey, epoch)] else { return nil }
            return IncidentCountStore.ChangedRow(
                key: key, count: count, values: ["count": Double(count), "p50_seconds": p50, "p90_seconds": p90, "mean_seconds": mean], revision: revision)
        }
    }
}
