import Foundation
import Postgres

/// The update log (`metric_update_batches`): the changed windows of every flush, written in
/// the flush's transaction. It is the outbox of the metric topics (the publisher sends each
/// unpublished row and numbers it) and the history of the live stream (rows in publication
/// order). One row holds at most `entriesPerRow` entries, so a stream position
/// `published_seq * 2^20 + index` never collides.
enum MetricUpdateLog {
    static let entriesPerRow = 20_000
    static let indexBits: Int64 = 20

    struct Batch: Sendable {
        var id: Int64
        var createdAt: Date
        var publishedSeq: Int64?
        var updates: [MetricUpdate]
    }

    /// Appends `updates` (in order) as one row per `entriesPerRow`.
    static func append(_ updates: [MetricUpdate], in connection: PostgresConnection) async throws {
        for start in stride(from: 0, to: updates.count, by: entriesPerRow) {
            let chunk = updates[start..<min(start + entriesPerRow, updates.count)]
            try await connection.execute("""
                INSERT INTO metric_update_batches (entry_count, entries) VALUES (\(chunk.count), \(MetricUpdateCoding.encode(chunk)))
                """)
        }
    }

    /// The oldest unpublished rows, in id order.
    static func unpublished(limit: Int, in connection: PostgresConnection) async throws -> [Batch] {
        try await connection.query("""
            SELECT id, created_at, entries FROM metric_update_batches WHERE published_seq IS NULL ORDER BY id LIMIT \(limit)
            """).map { row in
            let (id, created, entries) = try row.decode((Int64, Date, [UInt8]).self)
            return Batch(id: id, createdAt: created, publishedSeq: nil, updates: try MetricUpdateCoding.decode(entries))
        }
    }

    static func markPublished(_ id: Int64, in connection: PostgresConnection) async throws {
        try await connection.execute("""
            UPDATE metric_update_batches SET published_seq = nextval('metric_publish_seq'), published_at = now() WHERE id = \(id)
            """)
    }

    /// Published rows after position `seq`, in publication order (the live stream).
    static func published(after seq: Int64, limit: Int, postgres: PostgresClient) async throws -> [Batch] {
        try await postgres.query("""
            SELECT id, created_at, published_seq, entries FROM metric_update_batches
            WHERE published_seq > \(seq) ORDER BY published_seq LIMIT \(limit)
            """).map { row in
            let (id, created, published, entries) = try row.decode((Int64, Date, Int64, [UInt8]).self)
            return Batch(id: id, createdAt: created, publishedSeq: published, updates: try MetricUpdateCoding.decode(entries))
        }
    }

    static func lastPublishedSeq(postgres: PostgresClient) async throws -> Int64 {
        try await postgres.query("SELECT coalesce(max(published_seq), 0)::bigint FROM metric_update_batches").first?.decode(0, as: Int64.self) ?? 0
    }

    /// Forgets published rows older than `retention` (the live stream's history).
    static func prune(olderThan retention: Duration, postgres: PostgresClient) async throws {
        let seconds = Int(retention.components.seconds)
        try await postgres.execute("""
            DELETE FROM metric_update_batches WHERE published_seq IS NOT NULL AND published_at < now() - make_interval(secs => \(seconds))
            """)
    }
}
