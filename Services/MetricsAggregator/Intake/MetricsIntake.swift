import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceKit
import ServiceLifecycle

/// Consumes the aggregator's inputs — `incidents.normalized`, `alerts.delivered`,
/// `meetings.events`, `feedback.responses` — into the metrics. Two loops run at once: the
/// reader decodes batches from Kafka into a `FlushBuffer`, the applier takes flushes from it
/// and applies each in one PostgreSQL transaction with its offsets (`metric_consumer_offsets`).
/// On assignment the consumer starts each partition where the stored state ends; Kafka's
/// group offsets are committed too, but only for observability.
public struct MetricsIntake: Service {
    public static let consumerGroup = "metrics-aggregator"

    let consumer: KafkaConsumer
    let store: MetricsStore
    let decoder: MetricInputDecoder
    let deadLetters: DeadLetterPublisher
    let buffer: FlushBuffer
    let logger: Logger
    private let applied = Counter(label: "coalition_metrics_records_total")
    private let flushes = Counter(label: "coalition_metrics_flushes_total")

    init(
        consumer: KafkaConsumer, store: MetricsStore, producer: KafkaProducer, groupID: String, topicPrefix: String, flushSize: Int,
        flushDelay: Duration, logger: Logger
    ) {
        self.consumer = consumer
        self.store = store
        self.decoder = MetricInputDecoder(prefix: topicPrefix)
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.buffer = FlushBuffer(maximum: flushSize, delay: flushDelay)
        self.logger = logger
    }

    /// A consumer of the input topics that starts where `store`'s offsets end.
    /// `prefetchKilobytes` bounds what librdkafka fetches ahead (its default, 64 MB, would be
    /// most of the process's memory).
    static func makeConsumer(
        _ configuration: CommonConfiguration, store: MetricsStore, logger: Logger, maximumBatchSize: Int, prefetchKilobytes: Int
    ) throws -> KafkaConsumer {
        var kafka = configuration.kafka
        kafka.properties["queued.max.messages.kbytes"] = String(prefetchKilobytes)
        return try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: kafka, groupID: configuration.consumerGroup(consumerGroup),
                topics: MetricInputDecoder.inputs.map { configuration.topic($0) }, sessionTimeout: configuration.kafkaSessionTimeout,
                maximumBatchSize: maximumBatchSize, bufferedBatches: 4,
                startOffsets: { partitions in
                    let stored = BlockingBridge.wait(timeout: .seconds(30)) { try await store.storedOffsets(partitions) }
                    guard let stored else {
                        // Starting from the group's offsets is still exact: the flush guard skips
                        // whatever the stored state already contains.
                        logger.warning("stored offsets unavailable; starting from the group's committed offsets")
                        return [:]
                    }
                    var offsets: [KafkaTopicPartition: Int64] = [:]
                    for partition in partitions { offsets[partition] = stored[partition] ?? KafkaOffset.beginning }
                    return offsets
                }),
            logger: logger)
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await read() }
            group.addTask { try await applyFlushes() }
            do {
                // next(), not waitForAll(): the latter waits for every child before throwing.
                while try await group.next() != nil {}
            } catch {
                // A flush that fails for good (not a database outage) stops the service; the
                // reader must not keep the group waiting on the next batch.
                logger.error("metrics intake stopped", metadata: ["error": "\(error)"])
                buffer.finish()
                group.cancelAll()
                throw error
            }
        }
    }

    /// Kafka → decoded records → the buffer, until graceful shutdown: then the buffer is
    /// finished and the flushes drain it. Waiting for the consumer to end instead would
    /// deadlock, since the group stops the consumer only after this service has returned;
    /// records read but not flushed are read again at the next start (offsets live in PostgreSQL).
    private func read() async throws {
        defer { buffer.finish() }
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            await buffer.push(batch.map { DecodedRecord(decoding: $0, with: decoder) })
        }
    }

    /// The buffer → one transaction per flush → offsets marked for the group commit.
    private func applyFlushes() async throws {
        var lastTrim = ContinuousClock.now
        while let flush = await buffer.next() {
            _ = try await retryingWhileDatabaseUnavailable(logger: logger, what: "a metrics flush") {
                try await store.apply(flush) { invalid in
                    for (message, code, reason) in invalid {
                        logger.warning(
                            "unreadable record parked on the dead-letter topic",
                            metadata: ["kafka.topic": "\(message.topic)", "kafka.offset": "\(message.offset)", "error": "\(reason)"])
                        try await deadLetters.send(message, errorCode: code, errorMessage: reason)
                    }
                }
            }
            applied.increment(by: flush.count)
            flushes.increment()
            try consumer.markProcessed(flush.map(\.message))
            if ContinuousClock.now - lastTrim > .seconds(1) {
                lastTrim = .now
                FreeMemory.release()
            }
        }
    }
}
