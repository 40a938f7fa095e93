import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceKit
import ServiceLifecycle

/// Consumes `incidents.raw` (plain JSON, or CloudEvents in binary or structured mode) in the
/// `incident-ingestion` consumer group, so several instances share the partitions.
///
/// Each batch goes through the same validator, normalizer and store as HTTP; a record is marked
/// processed only after its batch committed. A redelivered record has the same content, so
/// it is `unchanged` and publishes nothing. Invalid records go to `incidents.rejected` with
/// the original bytes; a record the store itself cannot take goes to `incidents.raw.dlt`.
public struct RawIncidentIntake: Service {
    /// The group name; deployments sharing a cluster are kept apart by the topic prefix,
    /// which is prepended to group names as well.
    public static let consumerGroup = "incident-ingestion"

    let consumer: KafkaConsumer
    let store: IncidentStore
    let deadLetters: DeadLetterPublisher
    let writers: Int
    let logger: Logger

    /// - Parameter writers: transactions that store one batch side by side, each taking the
    ///   incidents whose id falls to it, so one incident's records stay in one transaction, in
    ///   order (`COALITION_INGESTION_WRITERS`).
    public init(consumer: KafkaConsumer, producer: KafkaProducer, store: IncidentStore, groupID: String, writers: Int = defaultWriters, logger: Logger) {
        self.consumer = consumer
        self.store = store
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.writers = max(1, writers)
        self.logger = logger
    }

    /// Two writers: the database spends most of a batch's time in one statement, which runs
    /// on one core; two transactions let it use both.
    public static let defaultWriters = 2

    /// Below this many incidents a batch is not split between writers.
    static let minimumSplit = 200

    /// Records per transaction unless `COALITION_INGESTION_BATCH_SIZE` says otherwise: larger
    /// batches spread each transaction's fixed cost (its queries, planning, the commit).
    public static let defaultBatchSize = 2000

    /// Records held ahead of the store (handed over, not yet stored), whatever the batch size.
    static let bufferedRecords = 8000

    /// librdkafka's own prefetch queue, bounded: its default (64 MiB) holds a large part of a
    /// backlog in memory, while a few batches ahead are enough to hide a fetch.
    static let prefetchKilobytes = 8 * 1024

    public static func makeConsumer(_ configuration: CommonConfiguration, batchSize: Int = defaultBatchSize, logger: Logger) throws -> KafkaConsumer {
        var kafka = configuration.kafka
        kafka.properties["queued.max.messages.kbytes"] = String(prefetchKilobytes)
        return try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: kafka, groupID: configuration.consumerGroup(consumerGroup), topics: [configuration.topic(.incidentsRaw)],
                sessionTimeout: configuration.kafkaSessionTimeout, maximumBatchSize: batchSize,
                bufferedBatches: max(2, bufferedRecords / batchSize)),
            logger: logger)
    }

    /// Two stages: while one batch is being stored, the next is decoded and validated (and
    /// its ids and content hashes computed), so the service's CPU work overlaps the database's.
    /// Batches are stored one at a time, in order, and a batch's offsets are marked processed
    /// only after it committed, before the next one is stored.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var storing = false
            var lastTrim = ContinuousClock.now
            for try await batch in consumer.batches.cancelOnGracefulShutdown() {
                let prepared = Self.prepare(batch)
                if storing { try await group.next() }
                // A drain leaves glibc holding the peak of its batches; hand it back now and then.
                if ContinuousClock.now - lastTrim > .seconds(1) {
                    lastTrim = .now
                    FreeMemory.release()
                }
                group.addTask {
                    try await process(prepared)
                    try consumer.markProcessed(prepared.messages)
                }
                storing = true
            }
            try await group.waitForAll()
        }
    }

    /// One batch of records, decoded: the valid incidents ready for the store and the rejections.
    struct PreparedBatch: Sendable {
        var messages: [KafkaMessage]
        var valid: [(message: KafkaMessage, incident: PreparedIncident)] = []
        var rejected: [RejectedSubmission] = []
    }

    static func prepare(_ batch: [KafkaMessage]) -> PreparedBatch {
        var prepared = PreparedBatch(messages: batch)
        prepared.valid.reserveCapacity(batch.count)
        for message in batch {
            switch decode(message) {
            case .success(let incident): prepared.valid.append((message, PreparedIncident(incident)))
            case .failure(let failure):
                prepared.rejected.append(RejectedSubmission(
                    source: nil, externalId: message.keyString, original: message.value, errors: failure.errors, channel: "kafka",
                    origin: .init(topic: message.topic, partition: message.partition, offset: message.offset)))
            }
        }
        return prepared
    }

    /// Stores a batch, split by incident id between the writers; returns once every part
    /// committed (only then are the batch's offsets marked).
    func process(_ batch: PreparedBatch) async throws {
        guard writers > 1, batch.valid.count >= Self.minimumSplit else {
            return try await store(batch.valid, rejected: batch.rejected)
        }
        var parts = [[(message: KafkaMessage, incident: PreparedIncident)]](repeating: [], count: writers)
        for entry in batch.valid { parts[Int(entry.incident.id.uuid.0) % writers].append(entry) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, part) in parts.enumerated() {
                group.addTask { try await store(part, rejected: index == 0 ? batch.rejected : []) }
            }
            try await group.waitForAll()
        }
    }

    private func store(_ valid: [(message: KafkaMessage, incident: PreparedIncident)], rejected: [RejectedSubmission]) async throws {
        do {
            try await ingestRetrying(valid.map(\.incident), rejected: rejected)
        } catch let error as PostgresError where !error.isRetriable {
            // Something in this batch the store refuses: find it by storing one record at a
            // time, and park only that one.
            logger.error("batch refused by the store; retrying record by record", metadata: ["error": "\(error)"])
            try await ingestRetrying([], rejected: rejected)
            for (message, incident) in valid {
                do {
                    try await ingestRetrying([incident], rejected: [])
                } catch let error as PostgresError where !error.isRetriable {
                    try await deadLetters.send(message, errorCode: "store_refused", errorMessage: error.description)
                }
            }
        }
    }

    /// Retries while the database is unavailable (a restart, a failover), so no record is
    /// skipped; gives up only when the service shuts down.
    private func ingestRetrying(_ incidents: [PreparedIncident], rejected: [RejectedSubmission]) async throws {
        var delay: Duration = .milliseconds(100)
        while true {
            do {
                let outcomes = try await store.ingest(prepared: incidents, rejected: rejected, channel: "kafka")
                IntakeOutcome.count(outcomes, rejected: rejected.count, channel: "kafka")
                return
            } catch let error as PostgresError where error.isRetriable {
                logger.warning("database unavailable; retrying the batch", metadata: ["error": "\(error)", "retry.delay": "\(delay)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// The incident in a record: the CloudEvent's data when it is one, else the whole value.
    static func decode(_ message: KafkaMessage) -> Result<RawIncident, IncidentValidationFailure> {
        let payload: [UInt8]
        do {
            payload = try CloudEvent(kafkaMessage: message)?.data ?? message.value
        } catch {
            return .failure(IncidentValidationFailure(errors: [.init(field: "", code: "invalid_cloud_event", message: error.message)]))
        }
        return IncidentValidator.validate(json: payload)
    }
}
