import ArgumentParser
import Contracts
import Kafka

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "Manage the Kafka topics.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every topic of the system and its dead-letter topic (idempotent).")

        func run() async throws {
            let cli = CLIEnvironment()
            let admin = try KafkaAdmin(configuration: cli.kafka, logger: cli.logger)
            let outcome = try await admin.createTopics(Self.specs(prefix: cli.topicPrefix))
            for name in outcome.keys.sorted() {
                print("\(outcome[name] == .created ? "created" : "exists ")  \(name)")
            }
        }

        static func specs(prefix: String) -> [KafkaTopicSpec] {
            Topic.allCases.flatMap { topic in
                var specs = [KafkaTopicSpec(name: topic.name(prefix: prefix), partitions: topic.partitions, configuration: topic.configuration)]
                if topic.hasDeadLetterTopic {
                    specs.append(KafkaTopicSpec(name: topic.deadLetterName(prefix: prefix), partitions: DeadLetterTopic.partitions))
                }
                return specs
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topics and their partition counts.")

        func run() async throws {
            let cli = CLIEnvironment()
            let admin = try KafkaAdmin(configuration: cli.kafka, logger: cli.logger)
            let topics = try await admin.topics()
            for name in topics.keys.sorted() { print("\(name)\t\(topics[name]!)") }
        }
    }
}
