import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Sends the update log to the metric topics: each unpublished row's entries as
/// `coalition.metric.v1` records (binary mode, key = window and dimensions, `ce_id` =
/// key#revision), then numbers the row for the live stream. One publisher at a time across
/// instances (a transaction-scoped advisory lock) keeps per-key order. A crash after sending
/// and before numbering sends the row again: the same keys, revisions and ids, which a
/// compacted topic and a deduplicating consumer both absorb.
struct MetricPublisher: Service {
    /// Advisory-lock key: "metrics" in ASCII.
    static let lockKey: Int64 = 0x6D65_7472_6963_73
    static let retention: Duration = .seconds(7 * 86_400)

    let postgres: PostgresClient
    let producer: KafkaProducer
    let dimensions: DimensionSets
    let topicPrefix: String
    let suppression: SuppressionRule
    let signal: UpdateSignal
    let pollInterval: Duration
    let logger: Logger
    private let published = Counter(label: "coalition_metrics_updates_published_total")

    init(
        postgres: PostgresClient, producer: KafkaProducer, dimensions: DimensionSets, topicPrefix: String, suppression: SuppressionRule,
        signal: UpdateSignal, pollInterval: Duration, logger: Logger
    ) {
        self.postgres = postgres
        self.producer = producer
        self.dimensions = dimensions
        self.topicPrefix = topicPrefix
        self.suppression = suppression
        self.signal = signal
        self.pollInterval = pollInterval
        self.logger = logger
    }

    func run() async throws {
        var lastPrune = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var sent = 0
            do {
                sent = try await publishNext()
            } catch {
                // Shutting down: what is not published yet is published by the next start.
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                logger.warning("metric publishing failed; will retry", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: pollInterval)
            }
            if ContinuousClock.now - lastPrune > .seconds(600) {
                lastPrune = .now
                try? await MetricUpdateLog.prune(olderThan: Self.retention, postgres: postgres)
            }
            if sent == 0 { await signal.wait(timeout: pollInterval) }
        }
    }

    /// Publishes the oldest unpublished log row; returns how many updates it carried
    /// (0 when there was none or another instance holds the lock).
    @discardableResult
    func publishNext() async throws -> Int {
        try await postgres.withTransaction { connection in
            let locked = try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.lockKey))")
            guard try locked.first?.decode(0, as: Bool.self) == true else { return 0 }
            guard let batch = try await MetricUpdateLog.unpublished(limit: 1, in: connection).first else { return 0 }
            let entries = try await dimensions.entries(Set(batch.updates.map(\.dimensionID)))
            // Built and sent a slice at a time: a flush may carry a hundred thousand updates.
            var writer = MetricPayloadWriter(computedAt: batch.createdAt)
            let time = KafkaHeader(key: "ce_time", string: RFC3339.string(from: batch.createdAt))
            for start in stride(from: 0, to: batch.updates.count, by: Self.sliceSize) {
                let slice = batch.updates[start..<min(start + Self.sliceSize, batch.updates.count)]
                try await producer.sendAll(try records(slice, writer: &writer, time: time, entries: entries))
            }
            try await MetricUpdateLog.markPublished(batch.id, in: connection)
            published.increment(by: batch.updates.count)
            return max(1, batch.updates.count)
        }
    }

    static let sliceSize = 5000
    // The attributes every metric event shares, built once (each header owns its bytes).
    static let fixedHeaders = [
        KafkaHeader(key: "ce_specversion", string: CloudEvent.specVersion), KafkaHeader(key: "ce_source", string: MetricMessage.source),
        KafkaHeader(key: "ce_type", string: EventType.metric), KafkaHeader(key: "content-type", string: "application/json"),
    ]

    func records(
        _ updates: ArraySlice<MetricUpdate>, writer: inout MetricPayloadWriter, time: KafkaHeader, entries: [Int32: DimensionSets.Entry]
    ) throws -> [KafkaRecord] {
        var records: [KafkaRecord] = []
        records.reserveCapacity(updates.count)
        var sensitive: [Int32: Bool] = [:]
        for update in updates {
            guard let entry = entries[update.dimensionID] else {
                throw MetricsStoreError(.dimensionSetMissing, "dimension set \(update.dimensionID) is unknown")
            }
            let isSensitive = sensitive[update.dimensionID] ?? {
                let value = update.metric.isSensitive(entry.set)
                sensitive[update.dimensionID] = value
                return value
            }()
            let withheld = suppression.withholds(count: update.count, sensitive: isSensitive)
            // `<granularity>/<window_start>/<dimensions>`, written as bytes.
            var key = Array(update.granularity.rawValue.utf8)
            key.append(UInt8(ascii: "/"))
            let at = key.count
            key.append(contentsOf: repeatElement(0, count: 20))
            MetricTime.write(epoch: update.windowStart, into: &key, at: at)
            key.append(UInt8(ascii: "/"))
            key.append(contentsOf: entry.set.key.utf8)
            var id = key
            id.append(UInt8(ascii: "#"))
            id.append(contentsOf: String(update.revision).utf8)
            records.append(KafkaRecord(
                topic: topicPrefix + update.metric.topic.rawValue, key: key,
                value: writer.payload(update, dimensions: entry.set, withheld: withheld),
                headers: Self.fixedHeaders + [KafkaHeader(key: "ce_id", value: id), time, KafkaHeader(key: "ce_subject", value: key)]))
        }
        return records
    }
}
