import Contracts
import Kafka
import Foundation
import Logging

public enum LogFormat: String, Sendable {
    case text, json
}

/// The settings every Coalition process shares. Each service's own configuration struct
/// embeds one and adds its own fields.
public struct CommonConfiguration: Sendable {
    public var serviceName: String
    /// `COALITION_KAFKA_BROKERS`, e.g. `kafka:9092`.
    public var kafkaBrokers: String
    /// `COALITION_DATABASE_URL`, a libpq connection string.
    public var databaseURL: String
    /// `COALITION_TOPIC_PREFIX`, prepended to every topic name.
    public var topicPrefix: String
    public var httpHost: String
    public var httpPort: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// `COALITION_OPERATOR_TOKEN`: bearer token of administrative calls; unset disables them.
    public var operatorToken: String?
    /// `COALITION_TIMEZONE`: the coalition's own time zone (metric windows, meeting defaults).
    public var timeZone: TimeZone
    /// How long start-up may wait for PostgreSQL and Kafka before giving up.
    public var startupTimeout: Duration
    /// How long a graceful shutdown may take before the process exits anyway.
    public var shutdownTimeout: Duration
    public var databasePoolSize: Int
    public var kafkaStatisticsInterval: Duration
    /// `COALITION_KAFKA_SESSION_TIMEOUT`: how quickly a dead group member's partitions move.
    public var kafkaSessionTimeout: Duration
    public var outboxPollInterval: Duration

    public init(environment: Environment, serviceName: String, defaultHTTPPort: Int) throws(ConfigurationError) {
        self.serviceName = serviceName
        kafkaBrokers = environment.string("COALITION_KAFKA_BROKERS", default: "127.0.0.1:9092")
        databaseURL = try environment.required("COALITION_DATABASE_URL")
        guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") || databaseURL.contains("=") else {
            throw ConfigurationError(variable: "COALITION_DATABASE_URL", message: "expected a libpq connection string (postgresql://… or key=value pairs)")
        }
        topicPrefix = environment.string("COALITION_TOPIC_PREFIX", default: "")
        httpHost = environment.string("COALITION_HTTP_HOST", default: "127.0.0.1")
        httpPort = try environment.int("COALITION_HTTP_PORT", default: defaultHTTPPort, range: 0...65535)
        logLevel = try environment.logLevel("COALITION_LOG_LEVEL", default: .info)
        let format = environment.string("COALITION_LOG_FORMAT", default: "text").lowercased()
        guard let logFormat = LogFormat(rawValue: format) else {
            throw ConfigurationError(variable: "COALITION_LOG_FORMAT", message: "expected text or json, got \"\(format)\"")
        }
        self.logFormat = logFormat
        operatorToken = environment.string("COALITION_OPERATOR_TOKEN")
        timeZone = try environment.timeZone("COALITION_TIMEZONE", default: TimeZone(identifier: "UTC")!)
        startupTimeout = try environment.duration("COALITION_STARTUP_TIMEOUT", default: .seconds(20))
        shutdownTimeout = try environment.duration("COALITION_SHUTDOWN_TIMEOUT", default: .seconds(30))
        databasePoolSize = try environment.int("COALITION_DATABASE_POOL_SIZE", default: 8, range: 1...200)
        kafkaStatisticsInterval = try environment.duration("COALITION_KAFKA_STATISTICS_INTERVAL", default: .seconds(15))
        kafkaSessionTimeout = try environment.duration("COALITION_KAFKA_SESSION_TIMEOUT", default: .seconds(10))
        outboxPollInterval = try environment.duration("COALITION_OUTBOX_POLL_INTERVAL", default: .milliseconds(250))
    }

    public func topic(_ topic: Contracts.Topic) -> String { topic.name(prefix: topicPrefix) }

    /// Consumer groups carry the topic prefix too, so deployments sharing a cluster never
    /// share (and rebalance) a group.
    public func consumerGroup(_ name: String) -> String { topicPrefix + name }

    public var kafka: KafkaConfiguration {
        KafkaConfiguration(brokers: kafkaBrokers, clientID: serviceName, statisticsInterval: kafkaStatisticsInterval)
    }
}

/// What each service's configuration struct provides to the runtime.
public protocol ServiceConfiguration: Sendable {
    var common: CommonConfiguration { get }
    init(environment: Environment) throws(ConfigurationError)
}
