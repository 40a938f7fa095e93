import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceKit
import ServiceLifecycle

/// Consumes `metrics.hotspots` (group `meeting-scheduler-hotspots`): each episode `start`
/// yields at most one emergency meeting (MeetingStore.handle). Updates and ends change
/// nothing. A record that is not a readable `coalition.hotspot.v1`, or that the database
/// refuses, goes to `metrics.hotspots.dlt` with the reason.
public struct HotspotIntake: Service {
    public static let consumerGroup = "meeting-scheduler-hotspots"

    let consumer: KafkaConsumer
    let store: MeetingStore
    let policy: EmergencyPolicy
    let deadLetters: DeadLetterPublisher
    let logger: Logger

    public init(consumer: KafkaConsumer, store: MeetingStore, policy: EmergencyPolicy, producer: KafkaProducer, groupID: String, logger: Logger) {
        self.consumer = consumer
        self.store = store
        self.policy = policy
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.logger = logger
    }

    public static func makeConsumer(_ configuration: CommonConfiguration, logger: Logger) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: configuration.kafka, groupID: configuration.consumerGroup(consumerGroup),
                topics: [configuration.topic(.metricsHotspots)], sessionTimeout: configuration.kafkaSessionTimeout),
            logger: logger)
    }

    public func run() async throws {
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            for message in batch { try await process(message) }
            try consumer.markProcessed(batch)
        }
    }

    func process(_ message: KafkaMessage) async throws {
        let episode: HotspotEpisode
        do {
            if let event = try CloudEvent(kafkaMessage: message) {
                guard event.type == EventType.hotspot else { throw Refusal("unexpected event type \(event.type)") }
                episode = try event.decodeData(as: HotspotEpisode.self)
            } else {
                episode = try CoalitionJSON.decoder.decode(HotspotEpisode.self, from: Data(message.value))
            }
            if episode.area.trimmingCharacters(in: .whitespaces).isEmpty { throw Refusal("area must not be empty") }
        } catch {
            try await deadLetters.send(message, errorCode: "invalid_hotspot_episode", errorMessage: "\(error)")
            return
        }
        guard episode.phase == .start else { return }
        var logger = logger
        logger[metadataKey: "hotspot.episode"] = "\(episode.episodeId.uuidString.lowercased())"
        do {
            let outcome = try await retryingWhileDatabaseUnavailable(logger: logger, what: "the hotspot episode") {
                try await store.handle(episode, policy: policy)
            }
            Counter(label: "coalition_scheduler_hotspot_episodes_total", dimensions: [("outcome", "\(outcome.label)")]).increment()
            logger.info("hotspot episode handled", metadata: ["hotspot.outcome": "\(outcome)"])
        } catch let error as PostgresError {
            try await deadLetters.send(message, errorCode: "store_refused", errorMessage: error.description)
        } catch let error as SchedulingContention {
            try await deadLetters.send(message, errorCode: "store_refused", errorMessage: error.description)
        }
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

extension EmergencyOutcome {
    var label: String {
        switch self {
        case .scheduled: "scheduled"
        case .notNeeded: "not_needed"
        case .unschedulable: "unschedulable"
        case .alreadyHandled: "already_handled"
        }
    }
}
