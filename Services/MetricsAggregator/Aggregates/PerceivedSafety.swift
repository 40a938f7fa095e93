import Contracts
import Foundation
import Postgres

/// Perceived safety (metric `perceived-safety`, topic `metrics.engagement`) from
/// `feedback.responses`: per window of `responded_at` and area × respondent role (and area,
/// role and overall totals), the number of answers and their mean score (1 very unsafe to
/// 5 very safe). Each answer counts once (`metric_feedback`, keyed by its id).
enum PerceivedSafety {
    static func dimensions(_ response: FeedbackResponse) -> [DimensionSet] {
        let role = response.role?.rawValue ?? Engagement.unspecifiedRole
        return [
            DimensionSet(.perceivedSafety, response.area, role), DimensionSet(.perceivedSafety, response.area, "*"),
            DimensionSet(.perceivedSafety, "*", role), DimensionSet(.perceivedSafety, "*", "*"),
        ]
    }

    /// Records the answers not seen before; returns the rows to recompute.
    static func record(_ responses: [(response: FeedbackResponse, id: String)], cache: inout WindowCache, in connection: PostgresConnection) async throws -> Set<MetricRow> {
        var unique: [String: FeedbackResponse] = [:]
        for (response, id) in responses where unique[id] == nil { unique[id] = response }
        guard !unique.isEmpty else { return [] }
        let list = unique.sorted { $0.key < $1.key }
        let inserted = try await connection.query("""
            INSERT INTO metric_feedback (response_id, area, role, score, responded_at)
            SELECT * FROM unnest(\(list.map(\.key))::text[], \(list.map(\.value.area))::text[],
                                 \(list.map { $0.value.role?.rawValue ?? Engagement.unspecifiedRole })::text[], \(list.map { Int16($0.value.score) })::smallint[],
                                 \(list.map(\.value.respondedAt))::timestamptz[])
            ON CONFLICT (response_id) DO NOTHING
            RETURNING response_id
            """).map { try $0.decode(0, as: String.self) }
        var rows: Set<MetricRow> = []
        for id in inserted {
            guard let response = unique[id] else { continue }
            rows.formUnion(MetricRow.rows(containing: response.respondedAt, dimensions: dimensions(response), cache: &cache))
        }
        return rows
    }

    static func recompute(_ rows: Set<MetricRow>, in connection: PostgresConnection) async throws -> [ComputedRow] {
        guard !rows.isEmpty else { return [] }
        let sorted = rows.sorted { $0.messageKey < $1.messageKey }
        let result = try await connection.query("""
            SELECT u.n, r.answers, r.mean
            FROM unnest(\(sorted.map(\.start))::timestamptz[], \(sorted.map(\.end))::timestamptz[],
                        \(sorted.map { $0.dimensions.object["area"] ?? "*" })::text[], \(sorted.map { $0.dimensions.object["role"] ?? "*" })::text[])
                 WITH ORDINALITY AS u(s, e, area, role, n)
            CROSS JOIN LATERAL (
                SELECT count(*)::bigint AS answers, avg(score)::double precision AS mean FROM metric_feedback
                WHERE responded_at >= u.s AND responded_at < u.e AND (u.area = '*' OR area = u.area) AND (u.role = '*' OR role = u.role)
            ) r
            ORDER BY u.n
            """)
        return try result.map { row in
            let (ordinal, answers, mean) = try row.decode((Int64, Int64, Double?).self)
            return ComputedRow(row: sorted[Int(ordinal) - 1], count: answers, values: [Double(answers), mean])
        }
    }
}
