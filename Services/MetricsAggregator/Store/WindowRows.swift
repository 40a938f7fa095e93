import Foundation
import Postgres

/// Writes window rows (`metric_values`) and returns each changed row as a `MetricUpdate` for
/// the update log. Rows are written in key order, so two aggregator instances sharing rows
/// (coalition totals) lock them in the same order and never deadlock.
struct WindowRows: Sendable {
    /// Rows per statement of the big batch writes.
    static let statementRows = 10_000

    let dimensions: DimensionSets

    /// Adds the counter's deltas to the rows' counts (incident counts are additive). `finalUpTo`:
    /// rows ending at or before it (epoch seconds) are final.
    func add(_ metric: MetricName, _ counter: IncidentCounter, finalUpTo: Int64, in connection: PostgresConnection) async throws -> [MetricUpdate] {
        guard !counter.counts.isEmpty else { return [] }
        let sets = counter.dimensionSets.map(\.set)
        let ids = try await dimensions.ids(metric, sets)
        let byLocal = sets.map { ids[$0]! }
        var entries: [(id: Int32, granularity: Int16, start: Int64, end: Int64, delta: Int64)] = []
        entries.reserveCapacity(counter.counts.count)
        for (key, change) in counter.counts where change.delta != 0 {
            entries.append((byLocal[Int(key.dimension)], key.granularity.code, key.start, change.end, change.delta))
        }
        guard !entries.isEmpty else { return [] }
        entries.sort { ($0.id, $0.granularity, $0.start) < ($1.id, $1.granularity, $1.start) }
        var updates: [MetricUpdate] = []
        updates.reserveCapacity(entries.count)
        // In statements of at most `statementRows`: libpq keeps its buffers at the size of the
        // largest message it ever sent or received, for the life of the connection.
        for chunkStart in stride(from: 0, to: entries.count, by: Self.statementRows) {
            let chunk = entries[chunkStart..<min(chunkStart + Self.statementRows, entries.count)]
            let rows = try await connection.query("""
                INSERT INTO metric_values (dimension_id, granularity, window_start, window_end, count, final)
                SELECT u.d, u.g, to_timestamp(u.s), to_timestamp(u.e), u.c, u.e <= \(finalUpTo)
                FROM unnest(\(chunk.map(\.id))::int[], \(chunk.map(\.granularity))::smallint[], \(chunk.map(\.start))::bigint[],
                            \(chunk.map(\.end))::bigint[], \(chunk.map(\.delta))::bigint[]) WITH ORDINALITY AS u(d, g, s, e, c, n)
                ORDER BY u.n
                ON CONFLICT (dimension_id, granularity, window_start) DO UPDATE
                SET count = metric_values.count + EXCLUDED.count, revision = metric_values.revision + 1,
                    final = metric_values.final OR EXCLUDED.final
                RETURNING dimension_id, granularity, extract(epoch FROM window_start)::bigint, extract(epoch FROM window_end)::bigint,
                          count, revision, final
                """)
            for row in rows {
                let (id, granularity, start, end, count, revision, final) = try row.decode((Int32, Int16, Int64, Int64, Int64, Int32, Bool).self)
                updates.append(MetricUpdate(
                    metric: metric, granularity: Granularity(code: granularity)!, dimensionID: id, windowStart: start, windowEnd: end,
                    count: count, values: [], revision: revision, final: final))
            }
        }
        return updates
    }

    /// Sets rows to recomputed values; returns the rows whose values changed.
    func replace(_ metric: MetricName, _ computed: [ComputedRow], finalUpTo: Int64, in connection: PostgresConnection) async throws -> [MetricUpdate] {
        guard !computed.isEmpty else { return [] }
        let ids = try await dimensions.ids(metric, Set(computed.map(\.row.dimensions)))
        let sorted = computed.sorted {
            (ids[$0.row.dimensions]!, $0.row.granularity.code, $0.row.startEpoch) < (ids[$1.row.dimensions]!, $1.row.granularity.code, $1.row.startEpoch)
        }
        let names = metric.valueNames
        let rows = try await connection.query("""
            INSERT INTO metric_values (dimension_id, granularity, window_start, window_end, count, "values", final)
            SELECT u.d, u.g, to_timestamp(u.s), to_timestamp(u.e), u.c, u.v::jsonb, u.e <= \(finalUpTo)
            FROM unnest(\(sorted.map { ids[$0.row.dimensions]! })::int[], \(sorted.map(\.row.granularity.code))::smallint[],
                        \(sorted.map(\.row.startEpoch))::bigint[], \(sorted.map(\.row.endEpoch))::bigint[], \(sorted.map(\.count))::bigint[],
                        \(sorted.map { Self.valuesJSON(names, $0.values) })::text[]) WITH ORDINALITY AS u(d, g, s, e, c, v, n)
            ORDER BY u.n
            ON CONFLICT (dimension_id, granularity, window_start) DO UPDATE
            SET count = EXCLUDED.count, "values" = EXCLUDED."values", revision = metric_values.revision + 1,
                final = metric_values.final OR EXCLUDED.final
            WHERE (metric_values.count, metric_values."values") IS DISTINCT FROM (EXCLUDED.count, EXCLUDED."values")
            RETURNING dimension_id, granularity, extract(epoch FROM window_start)::bigint, revision, final
            """)
        var byKey: [String: ComputedRow] = [:]
        for row in sorted { byKey["\(ids[row.row.dimensions]!)|\(row.row.granularity.code)|\(row.row.startEpoch)"] = row }
        var updates: [MetricUpdate] = []
        for row in rows {
            let (id, granularity, start, revision, final) = try row.decode((Int32, Int16, Int64, Int32, Bool).self)
            guard let computed = byKey["\(id)|\(granularity)|\(start)"] else { continue }
            updates.append(MetricUpdate(
                metric: metric, granularity: computed.row.granularity, dimensionID: id, windowStart: start, windowEnd: computed.row.endEpoch,
                count: computed.count, values: computed.values, revision: revision, final: final))
        }
        return updates
    }

    /// Marks rows final once the watermark has passed their end plus the grace period, each
    /// re-emitted with its revision + 1 (the grace period decides when a window is announced
    /// final). At most `limit` per flush; the rest follow with the next ones.
    func announceFinal(upTo: Int64, limit: Int = 20_000, in connection: PostgresConnection) async throws -> [MetricUpdate] {
        guard upTo > Int64.min else { return [] }   // no watermark yet
        let rows = try await connection.query("""
            UPDATE metric_values v SET final = true, revision = v.revision + 1
            FROM (SELECT dimension_id, granularity, window_start FROM metric_values
                  WHERE NOT final AND window_end <= to_timestamp(\(upTo))
                  ORDER BY window_end LIMIT \(limit) FOR UPDATE) due
            WHERE (v.dimension_id, v.granularity, v.window_start) = (due.dimension_id, due.granularity, due.window_start)
            RETURNING v.dimension_id, v.granularity, extract(epoch FROM v.window_start)::bigint, extract(epoch FROM v.window_end)::bigint,
                      v.count, v."values"::text, v.revision
            """)
        guard !rows.isEmpty else { return [] }
        var decoded: [(Int32, Int16, Int64, Int64, Int64, String?, Int32)] = []
        for row in rows { decoded.append(try row.decode((Int32, Int16, Int64, Int64, Int64, String?, Int32).self)) }
        let entries = try await dimensions.entries(Set(decoded.map(\.0)))
        return decoded.compactMap { id, granularity, start, end, count, valuesText, revision in
            guard let metric = entries[id]?.metric else { return nil }
            return MetricUpdate(
                metric: metric, granularity: Granularity(code: granularity)!, dimensionID: id, windowStart: start, windowEnd: end, count: count,
                values: Self.values(metric.valueNames, fromJSON: valuesText), revision: revision, final: true)
        }
    }

    static func valuesJSON(_ names: [String], _ values: [Double?]) -> String {
        var object: [String: Any] = [:]
        for (name, value) in zip(names, values) { object[name] = value.map { $0 as Any } ?? NSNull() }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static func values(_ names: [String], fromJSON text: String?) -> [Double?] {
        guard !names.isEmpty else { return [] }
        let object = text.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] } ?? [:]
        return names.map { (object[$0] as? NSNumber)?.doubleValue }
    }
}
