import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Publishes committed outbox rows to Kafka, in id order, with the idempotent producer.
///
/// One relay publishes at a time across all instances (a transaction-scoped advisory lock),
/// which keeps per-key order. A row is marked published only after the broker acknowledged
/// it; a crash in between republishes it (at-least-once), and the stable `ce_id` lets
/// consumers drop the duplicate through their inbox.
public struct OutboxRelay: Service {
    /// Advisory-lock key: "outbox" in ASCII.
    static let lockKey: Int64 = 0x6F7574626F78

    private let postgres: PostgresClient
    private let producer: KafkaProducer
    private let topicPrefix: String
    private let batchSize: Int
    private let pollInterval: Duration
    private let retention: Duration
    private let logger: Logger
    private let published = Counter(label: "coalition_outbox_published_total")

    public init(
        postgres: PostgresClient, producer: KafkaProducer, topicPrefix: String, logger: Logger,
        batchSize: Int = 1000, pollInterval: Duration = .milliseconds(250), retention: Duration = .seconds(7 * 24 * 3600)
    ) {
        self.postgres = postgres
        self.producer = producer
        self.topicPrefix = topicPrefix
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.retention = retention
        self.logger = logger
    }

    public func run() async throws {
        var lastCleanup = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let count: Int
            do {
                count = try await publishBatch()
            } catch {
                logger.warning("outbox relay batch failed; will retry", metadata: ["error": "\(error)"])
                count = 0
            }
            if ContinuousClock.now - lastCleanup > .seconds(600) {
                try? await deletePublished()
                lastCleanup = .now
            }
            // A full batch means more is waiting; otherwise wait for the next poll.
            if count < batchSize {
                try? await Task.sleep(for: pollInterval)
            }
        }
        // Anything still unpublished is picked up by the next start; the producer flushes
        // what it already accepted when it shuts down after us.
    }

    /// Publishes the next batch of unpublished rows; returns how many.
    @discardableResult
    public func publishBatch() async throws -> Int {
        try await postgres.withTransaction { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.lockKey))")
            guard try locked.first?.decode(0, as: Bool.self) == true else { return 0 }
            // The unpublished index is tiny but the table grows fast; without statistics yet the
            // planner would read the whole table for each batch.
            try await connection.preferIndexScans()
            let rows = try await connection.query("""
                SELECT id, topic, message_key, headers::text, payload FROM outbox
                WHERE published_at IS NULL ORDER BY id LIMIT \(batchSize)
                """)
            guard !rows.isEmpty else { return 0 }
            var ids: [Int64] = []
            var records: [KafkaRecord] = []
            ids.reserveCapacity(rows.count)
            records.reserveCapacity(rows.count)
            for row in rows {
                ids.append(try row.decode(0, as: Int64.self))
                let headersText = try row.decode(3, as: String.self)
                let headers = try OutboxHeaders.parse(headersText) ?? {
                    let headersObject = try JSONSerialization.jsonObject(with: Data(headersText.utf8)) as? [String: String] ?? [:]
                    return headersObject.sorted { $0.key < $1.key }.map { KafkaHeader(key: $0.key, string: $0.value) }
                }()
                records.append(KafkaRecord(
                    topic: topicPrefix + (try row.decode(1, as: String.self)),
                    key: try row.decode(2, as: [UInt8]?.self),
                    value: try row.decode(4, as: [UInt8].self),
                    headers: headers))
            }
            try await producer.sendAll(records)
            try await connection.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(\(ids))")
            published.increment(by: rows.count)
            return rows.count
        }
    }

    private func deletePublished() async throws {
        let seconds = Int(retention.components.seconds)
        try await postgres.withConnection { connection in
            _ = try await connection.execute("DELETE FROM outbox WHERE published_at < now() - make_interval(secs => \(seconds))")
        }
    }
}
