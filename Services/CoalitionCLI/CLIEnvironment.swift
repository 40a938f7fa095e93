import Foundation
import Kafka
import Logging
import Postgres
import ServiceKit

/// The settings the CLI reads, with the same variable names as the services.
struct CLIEnvironment {
    let environment = Environment()

    var topicPrefix: String { environment.string("COALITION_TOPIC_PREFIX", default: "") }
    var brokers: String { environment.string("COALITION_KAFKA_BROKERS", default: "127.0.0.1:9092") }

    func databaseURL() throws -> String { try environment.required("COALITION_DATABASE_URL") }

    var logger: Logger {
        var logger = Logger(label: "coalition")
        logger.logLevel = (try? environment.logLevel("COALITION_LOG_LEVEL", default: .warning)) ?? .warning
        return logger
    }

    var kafka: KafkaConfiguration { KafkaConfiguration(brokers: brokers, clientID: "coalition-cli", statisticsInterval: .zero) }

    func postgres() throws -> PostgresClient {
        try PostgresClient(configuration: .init(connectionString: try databaseURL(), maxConnections: 2), logger: logger)
    }
}
