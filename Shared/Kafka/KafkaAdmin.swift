import Logging

public struct KafkaTopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    public var configuration: [String: String]

    /// `replicationFactor` -1 lets the broker apply its default.
    public init(name: String, partitions: Int, replicationFactor: Int = -1, configuration: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configuration = configuration
    }
}

public enum KafkaTopicCreation: Sendable, Equatable {
    case created, alreadyExisted
}

/// Topic administration over the Kafka Admin API.
public final class KafkaAdmin: Sendable {
    private let client: RDKafkaClient
    private let poller: RDKafkaPollThread

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        var configuration = configuration
        configuration.statisticsInterval = .zero
        let statistics = KafkaStatistics(clientID: configuration.clientID, role: "admin")
        self.client = try RDKafkaClient(
            kind: .producer, properties: KafkaProducerConfiguration(kafka: configuration).librdkafkaProperties,
            logger: logger, statistics: statistics)
        self.poller = RDKafkaPollThread(client: client, name: "kafka-admin-poll")
    }

    deinit { poller.stop() }

    /// Creates the topics; creating an existing topic is not an error (idempotent).
    @discardableResult
    public func createTopics(_ specs: [KafkaTopicSpec], timeout: Duration = .seconds(30)) async throws(KafkaError) -> [String: KafkaTopicCreation] {
        guard !specs.isEmpty else { return [:] }
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.createTopics(specs, timeoutMs: milliseconds) }
    }

    public func deleteTopics(_ names: [String], timeout: Duration = .seconds(30)) async throws(KafkaError) {
        guard !names.isEmpty else { return }
        let milliseconds = Int32(clamping: timeout.milliseconds)
        try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.deleteTopics(names, timeoutMs: milliseconds) }
    }

    /// Existing topics and their partition counts.
    public func topics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String: Int] {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.topics(timeoutMs: milliseconds) }
    }

    public func brokers(timeout: Duration = .seconds(5)) async throws(KafkaError) -> [String] {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.brokerNames(timeoutMs: milliseconds) }
    }
}
