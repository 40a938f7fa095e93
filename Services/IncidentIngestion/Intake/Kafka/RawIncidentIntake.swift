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
    let logger: Logger

    public init(consumer: KafkaConsumer, producer: KafkaProducer, store: IncidentStore, groupID: String, logger: Logger) {
        self.consumer = consumer
        self.store = store
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.logger = logger
    }

    public static func makeConsumer(_ configuration: CommonConfiguration, logger: Logger) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: configuration.kafka, groupID: configuration.consumerGroup(consumerGroup), topics: [configuration.topic(.incidentsRaw)],
                sessionTimeout: configuration.kafkaSessionTimeout),
            logger: logger)
    }

    public func run() async throws {
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            try await process(batch)
            try consumer.markProcessed(batch)
        }
    }

    func process(_ batch: [KafkaMessage]) async throws {
        var valid: [(message: KafkaMessage, incident: RawIncident)] = []
        var rejected: [RejectedSubmission] = []
        for message in batch {
            switch Self.decode(message) {
            case .success(let incident): valid.append((message, incident))
            case .failure(let failure):
                rejected.append(RejectedSubmission(
                    source: nil, externalId: message.keyString, original: message.value, errors: failure.errors, channel: "kafka",
                    origin: .init(topic: message.topic, partition: message.partition, offset: message.offset)))
            }
        }
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
    private func ingestRetrying(_ incidents: [RawIncident], rejected: [RejectedSubmission]) async throws {
        var delay: Duration = .milliseconds(100)
        while true {
            do {
                let outcomes = try await store.ingest(incidents, rejected: rejected, channel: "kafka")
                Counter(label: "coalition_ingestion_incidents_total", dimensions: [("channel", "kafka"), ("outcome", "rejected")]).increment(by: rejected.count)
                for outcome in outcomes {
                    Counter(label: "coalition_ingestion_incidents_total", dimensions: [("channel", "kafka"), ("outcome", outcome.status.rawValue)]).increment()
                }
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
