import Foundation
import Kafka
import Logging

/// Topics a test owns, created with a unique name. They are left on the broker afterwards:
/// deleting a topic while other Kafka clients in the same test process still hold it in their
/// metadata cache crashed librdkafka 2.8.0 (SIGSEGV in the metadata update, cf. upstream issue
/// 5280). Names are unique, and the test broker keeps its topics in memory only.
public enum TopicFixture {
    public static func withTopics<T>(
        _ labels: [String], partitions: Int = 1, configuration: [String: String] = [:],
        _ body: ([String]) async throws -> T
    ) async throws -> T {
        let names = labels.map { TestEnvironment.uniqueName($0) }
        return try await withNamedTopics(names, partitions: partitions, configuration: configuration) { try await body(names) }
    }

    /// Topics with exact names (e.g. under a test's own prefix).
    public static func withNamedTopics<T>(
        _ names: [String], partitions: Int = 1, configuration: [String: String] = [:], _ body: () async throws -> T
    ) async throws -> T {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(clientID: "test-admin"), logger: TestEnvironment.logger)
        try await admin.createTopics(names.map { KafkaTopicSpec(name: $0, partitions: partitions, configuration: configuration) })
        return try await body()
    }

    /// Reads records from the start of `topic` with a throwaway group until `until` says enough.
    public static func readAll(
        topic: String, timeout: Duration = .seconds(60), until: @escaping @Sendable ([KafkaMessage]) -> Bool
    ) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: try TestEnvironment.kafka(clientID: "test-reader"), groupID: TestEnvironment.uniqueName("reader"),
                topics: [topic], sessionTimeout: .seconds(6)),
            logger: TestEnvironment.logger)
        return try await withThrowingTaskGroup(of: [KafkaMessage]?.self) { group in
            group.addTask {
                try await consumer.run()
                return nil
            }
            group.addTask {
                var collected: [KafkaMessage] = []
                for try await batch in consumer.batches {
                    collected += batch
                    if until(collected) { break }
                }
                return collected
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DeadlineExceeded(what: "records on \(topic)")
            }
            var result: [KafkaMessage] = []
            while let next = try await group.next() {
                if let messages = next {
                    result = messages
                    consumer.stop()
                    group.cancelAll()
                    break
                }
            }
            return result
        }
    }
}
