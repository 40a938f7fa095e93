/// Settings shared by producers, consumers and admin clients.
public struct KafkaConfiguration: Sendable {
    /// `host:port[,host:port…]` (`COALITION_KAFKA_BROKERS`).
    public var brokers: String
    public var clientID: String
    /// How often librdkafka statistics are turned into metrics; zero disables them.
    public var statisticsInterval: Duration
    /// Raw librdkafka properties applied last, for what the typed fields do not cover.
    public var properties: [String: String]

    public init(brokers: String, clientID: String = "coalition", statisticsInterval: Duration = .seconds(15), properties: [String: String] = [:]) {
        self.brokers = brokers
        self.clientID = clientID
        self.statisticsInterval = statisticsInterval
        self.properties = properties
    }

    var baseProperties: [String: String] {
        [
            "bootstrap.servers": brokers,
            "client.id": clientID,
            "statistics.interval.ms": String(statisticsInterval.milliseconds),
            // Short reconnect backoff: a restarted local broker is back within seconds.
            "reconnect.backoff.max.ms": "2000",
        ]
    }
}

public struct KafkaProducerConfiguration: Sendable {
    public var kafka: KafkaConfiguration
    /// Idempotent by default: retries never duplicate or reorder records within a partition.
    public var idempotent: Bool
    public var linger: Duration
    /// How long librdkafka keeps retrying one record before reporting it failed.
    public var deliveryTimeout: Duration

    public init(kafka: KafkaConfiguration, idempotent: Bool = true, linger: Duration = .milliseconds(5), deliveryTimeout: Duration = .seconds(120)) {
        self.kafka = kafka
        self.idempotent = idempotent
        self.linger = linger
        self.deliveryTimeout = deliveryTimeout
    }

    var librdkafkaProperties: [String: String] {
        var properties = kafka.baseProperties
        properties["enable.idempotence"] = idempotent ? "true" : "false"
        properties["acks"] = "all"
        properties["linger.ms"] = String(linger.milliseconds)
        properties["message.timeout.ms"] = String(deliveryTimeout.milliseconds)
        properties["queue.buffering.max.messages"] = "1000000"
        properties.merge(kafka.properties) { _, new in new }
        return properties
    }
}

public struct KafkaConsumerConfiguration: Sendable {
    public enum OffsetReset: String, Sendable { case earliest, latest }

    public var kafka: KafkaConfiguration
    public var groupID: String
    public var topics: [String]
    public var offsetReset: OffsetReset
    /// A dead member's partitions move to the others after this long.
    public var sessionTimeout: Duration
    public var heartbeatInterval: Duration
    /// Stored (processed) offsets are committed this often, on revoke, and on close.
    public var autoCommitInterval: Duration
    /// Largest batch handed to the application.
    public var maximumBatchSize: Int
    /// Batches buffered ahead of the application before fetching pauses (back-pressure).
    public var bufferedBatches: Int
    /// How long the broker may hold a fetch open waiting for new records. librdkafka's 500 ms
    /// default is tuned for throughput; records that arrive while a fetch is held wait for it
    /// on brokers that only answer at the deadline, so alerts would sit up to half a second.
    public var fetchWaitMax: Duration = .milliseconds(100)
    /// For consumers that store their offsets themselves, in the same transaction as their
    /// effects: called on the consume thread whenever partitions are assigned, it returns
    /// where each one starts (the next offset to read, or `KafkaOffset.beginning`). Partitions
    /// it leaves out start from the group's committed offset as usual. It may block.
    public var startOffsets: (@Sendable ([KafkaTopicPartition]) -> [KafkaTopicPartition: Int64])?

    public init(
        kafka: KafkaConfiguration, groupID: String, topics: [String], offsetReset: OffsetReset = .earliest,
        sessionTimeout: Duration = .seconds(10), heartbeatInterval: Duration = .seconds(1),
        autoCommitInterval: Duration = .seconds(1), maximumBatchSize: Int = 1000, bufferedBatches: Int = 8,
        startOffsets: (@Sendable ([KafkaTopicPartition]) -> [KafkaTopicPartition: Int64])? = nil
    ) {
        self.startOffsets = startOffsets
        self.kafka = kafka
        self.groupID = groupID
        self.topics = topics
        self.offsetReset = offsetReset
        self.sessionTimeout = sessionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.autoCommitInterval = autoCommitInterval
        self.maximumBatchSize = maximumBatchSize
        self.bufferedBatches = bufferedBatches
    }

    var librdkafkaProperties: [String: String] {
        var properties = kafka.baseProperties
        properties["group.id"] = groupID
        properties["auto.offset.reset"] = offsetReset.rawValue
        properties["session.timeout.ms"] = String(sessionTimeout.milliseconds)
        properties["heartbeat.interval.ms"] = String(heartbeatInterval.milliseconds)
        // At-least-once: an offset is stored only when the application says the record is
        // processed; librdkafka then commits stored offsets in the background.
        properties["enable.auto.offset.store"] = "false"
        properties["enable.auto.commit"] = "true"
        properties["auto.commit.interval.ms"] = String(autoCommitInterval.milliseconds)
        properties["enable.partition.eof"] = "false"
        properties["fetch.wait.max.ms"] = String(fetchWaitMax.milliseconds)
        properties.merge(kafka.properties) { _, new in new }
        return properties
    }
}

/// Logical offsets librdkafka understands in place of a real one.
public enum KafkaOffset {
    /// The oldest record the partition still holds.
    public static let beginning: Int64 = -2
    /// The next record to be written.
    public static let end: Int64 = -1
}

extension Duration {
    /// Whole milliseconds, as librdkafka's `*.ms` properties want them.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
