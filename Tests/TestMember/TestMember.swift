import Foundation
import Kafka
import Logging
import ServiceKit
import ServiceLifecycle

/// A child process for failure tests: the tests SIGKILL and SIGTERM it.
///
///     TestMember group-member BROKERS GROUP TOPIC   consume; print "record VALUE" once processed
///     TestMember outbox-relay                        run the outbox relay (COALITION_* settings)
@main
struct TestMember {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var logger = Logger(label: "test-member")
        logger.logLevel = .warning
        switch arguments.first {
        case "group-member" where arguments.count == 4:
            try await groupMember(brokers: arguments[1], group: arguments[2], topic: arguments[3], logger: logger)
        case "outbox-relay":
            // The full service runtime with no business services: PostgreSQL, producer,
            // outbox relay and HTTP, exactly as every executable runs them.
            await ServiceRuntime.main(TestMemberConfiguration.self) { _, _ in [] }
        default:
            FileHandle.standardError.write(Data("usage: TestMember group-member BROKERS GROUP TOPIC | outbox-relay\n".utf8))
            exit(64)
        }
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func groupMember(brokers: String, group: String, topic: String, logger: Logger) async throws {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: KafkaConfiguration(brokers: brokers, clientID: "test-member", statisticsInterval: .zero),
                groupID: group, topics: [topic], sessionTimeout: .seconds(6), maximumBatchSize: 50),
            logger: logger)
        consumer.onRebalance { event in
            switch event {
            case .assigned(let partitions): say("assigned \(partitions.map { String($0.partition) }.joined(separator: ","))")
            case .revoked(let partitions): say("revoked \(partitions.map { String($0.partition) }.joined(separator: ","))")
            }
        }
        let processor = BatchProcessor(consumer: consumer) { batch in
            for message in batch { say("record \(message.valueString)") }
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: consumer), .init(service: processor)], gracefulShutdownSignals: [.sigterm], logger: logger))
        try await group.run()
        say("stopped")
    }

}

/// Hands each batch to `process`, then marks it processed.
struct BatchProcessor: Service {
    let consumer: KafkaConsumer
    let process: @Sendable ([KafkaMessage]) async throws -> Void

    func run() async throws {
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            try await process(batch)
            try consumer.markProcessed(batch)
        }
    }
}

struct TestMemberConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "test-member", defaultHTTPPort: 0)
    }
}
