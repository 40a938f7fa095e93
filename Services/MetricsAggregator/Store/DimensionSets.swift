import Foundation
import NIOConcurrencyHelpers
import Postgres

/// Dimension sets by id (`metric_dimension_sets`): window rows refer to their dimensions by a
/// 4-byte id. The table only grows, so ids are cached for the life of the process.
///
/// New sets are created in their own short transaction, outside the flush that needs them:
/// an id must never be cached from a transaction that may still roll back.
final class DimensionSets: Sendable {
    struct Entry: Sendable {
        var metric: MetricName
        var set: DimensionSet
    }

    private struct Name: Hashable {
        var metric: MetricName
        var key: String
    }

    private let postgres: PostgresClient
    private let cache = NIOLockedValueBox<(ids: [Name: Int32], entries: [Int32: Entry])>(([:], [:]))
    /// Dimension sets come from areas × categories and the like; far below this in practice.
    static let capacity = 500_000

    init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    /// The ids of `sets` of `metric`, creating the missing ones.
    func ids(_ metric: MetricName, _ sets: some Collection<DimensionSet>) async throws -> [DimensionSet: Int32] {
        var result: [DimensionSet: Int32] = [:]
        var missing: [DimensionSet] = []
        cache.withLockedValue { cache in
            for set in sets {
                if let id = cache.ids[Name(metric: metric, key: set.key)] { result[set] = id } else { missing.append(set) }
            }
        }
        guard !missing.isEmpty else { return result }
        let unique = Array(Set(missing)).sorted { $0.key < $1.key }
        let objects = unique.map { Self.json($0.object) }
        let rows = try await postgres.withConnection { connection in
            try await connection.execute("""
                INSERT INTO metric_dimension_sets (metric, dimension_key, dimensions)
                SELECT \(metric.rawValue), u.k, u.d::jsonb FROM unnest(\(unique.map(\.key))::text[], \(objects)::text[]) AS u(k, d)
                ON CONFLICT (metric, dimension_key) DO NOTHING
                """)
            return try await connection.query("""
                SELECT id, dimension_key FROM metric_dimension_sets WHERE metric = \(metric.rawValue) AND dimension_key = ANY(\(unique.map(\.key)))
                """)
        }
        var found: [String: Int32] = [:]
        for row in rows {
            let (id, key) = try row.decode((Int32, String).self)
            found[key] = id
        }
        cache.withLockedValue { cache in
            if cache.ids.count > Self.capacity { cache = ([:], [:]) }
            for set in unique {
                guard let id = found[set.key] else { continue }
                cache.ids[Name(metric: metric, key: set.key)] = id
                cache.entries[id] = Entry(metric: metric, set: set)
            }
        }
        for set in missing {
            guard let id = found[set.key] else { throw MetricsStoreError(.dimensionSetMissing, "dimension set \(set.key) of \(metric.rawValue) was not created") }
            result[set] = id
        }
        return result
    }

    /// What the ids stand for, loading the ones not cached yet; unknown ids are left out.
    func entries(_ ids: some Collection<Int32>) async throws -> [Int32: Entry] {
        var result: [Int32: Entry] = [:]
        var missing: [Int32] = []
        cache.withLockedValue { cache in
            for id in ids {
                if let entry = cache.entries[id] { result[id] = entry } else { missing.append(id) }
            }
        }
        guard !missing.isEmpty else { return result }
        let rows = try await postgres.query("""
            SELECT id, metric, dimension_key, dimensions::text FROM metric_dimension_sets WHERE id = ANY(\(Array(Set(missing))))
            """)
        var loaded: [Int32: Entry] = [:]
        for row in rows {
            let (id, metricName, key, text) = try row.decode((Int32, String, String, String).self)
            guard let metric = MetricName(rawValue: metricName) else { continue }
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: String] ?? [:]
            loaded[id] = Entry(metric: metric, set: DimensionSet(key: key, object: object))
        }
        cache.withLockedValue { cache in
            if cache.ids.count > Self.capacity { cache = ([:], [:]) }
            for (id, entry) in loaded {
                cache.entries[id] = entry
                cache.ids[Name(metric: entry.metric, key: entry.set.key)] = id
            }
        }
        return result.merging(loaded) { first, _ in first }
    }

    /// The id of one set if it exists (queries never create sets).
    func existingID(_ metric: MetricName, _ key: String) async throws -> Int32? {
        if let id = cache.withLockedValue({ $0.ids[Name(metric: metric, key: key)] }) { return id }
        return try await postgres.query("""
            SELECT id FROM metric_dimension_sets WHERE metric = \(metric.rawValue) AND dimension_key = \(key)
            """).first?.decode(0, as: Int32.self)
    }

    static func json(_ object: [String: String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
