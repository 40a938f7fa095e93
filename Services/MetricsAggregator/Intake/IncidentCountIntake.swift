import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceKit
import ServiceLifecycle

/// Consumes `incidents.normalized` into the incident counts. Offsets live in PostgreSQL next
/// to the counts (`metric_consumer_offsets`): on assignment the consumer starts each
/// partition where the stored state ends, and every batch is applied in one transaction with
/// its offsets. Kafka's group offsets are committed too, but only for observability.
public struct IncidentCountIntake: Service {
    public static let consumerGroup = "metrics-aggregator"

    let consumer: KafkaConsumer
    let store: IncidentCountStore
    let deadLetters: DeadLetterPublisher
    let logger: Logger
    private let applied = Counter(label: "coalition_metrics_incident_records_total")

    public init(consumer: KafkaConsumer, store: IncidentCountStore, producer: KafkaProducer, groupID: String, logger: Logger) {
        self.consumer = consumer
        self.store = store
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.logger = logger
    }

    /// A consumer of `incidents.normalized` that starts where `store`'s offsets end.
    public static func makeConsumer(
        _ configuration: CommonConfiguration, store: IncidentCountStore, logger: Logger, maximumBatchSize: Int = 2000
    ) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: configuration.kafka, groupID: configuration.consumerGroup(consumerGroup),
                topics: [configuration.topic(.incidentsNormalized)], sessionTimeout: configuration.kafkaSessionTimeout,
                maximumBatchSize: maximumBatchSize,
                startOffsets: { partitions in
                    let stored = BlockingBridge.wait(timeout: .seconds(30)) { try await store.storedOffsets(partitions) }
                    guard let stored else {
                        // Starting from the group's offsets is still exact: the batch guard skips
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

    /// How long the live stream's history (`metric_updates`) is kept for resuming clients.
    static let streamRetention = 7 * 86_400

    public func run() async throws {
        var lastPrune = ContinuousClock.now
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            if ContinuousClock.now - lastPrune > .seconds(600) {
                lastPrune = .now
                _ = try? await store.postgres.execute(
                    "DELETE FROM metric_updates WHERE created_at < now() - make_interval(secs => \(Self.streamRetention))")
            }
            let decoded = batch.map { message in (message: message, input: Self.decode(message)) }
            _ = try await retryingWhileDatabaseUnavailable(logger: logger, what: "the incident batch") {
                try await store.apply(decoded) { invalid in
                    for (message, code, reason) in invalid {
                        logger.warning(
                            "unreadable record parked on the dead-letter topic",
                            metadata: ["kafka.topic": "\(message.topic)", "kafka.offset": "\(message.offset)", "error": "\(reason)"])
                        try await deadLetters.send(message, errorCode: code, errorMessage: reason)
                    }
                }
            }
            applied.increment(by: batch.count)
            try consumer.markProcessed(batch)
        }
    }

    /// A `coalition.incident.v1` event (binary or structured mode) or the bare canonical JSON.
    static func decode(_ message: KafkaMessage) -> IncidentCountStore.Input {
        do {
            let incident: CanonicalIncident
            if let event = try CloudEvent(kafkaMessage: message) {
                guard event.type == EventType.incident else {
                    return .invalid(code: "unexpected_event_type", reason: "expected \(EventType.incident), got \(event.type)")
                }
                incident = try event.decodeData(as: CanonicalIncident.self)
            } else {
                incident = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(message.value))
            }
            guard incident.revision >= 1 else { return .invalid(code: "invalid_incident_event", reason: "revision must be at least 1") }
            return .incident(CountedIncident(incident))
        } catch let error as KafkaError {
            return .invalid(code: "invalid_cloud_event", reason: "\(error)")
        } catch {
            return .invalid(code: "invalid_incident_event", reason: "\(error)")
        }
    }
}
