import ArgumentParser
import Contracts
import Foundation
import Kafka

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail", abstract: "Print the records of a topic, CloudEvents attributes first, data as JSON.")

    @Argument(help: "Topic name without the deployment prefix, e.g. incidents.normalized.")
    var topic: String

    @Flag(help: "Start at the oldest record instead of waiting for new ones.")
    var fromBeginning = false

    @Option(help: "Stop after this many records.")
    var max: Int?

    func run() async throws {
        let cli = CLIEnvironment()
        let name = cli.topicPrefix + topic
        // A throwaway group that never commits: tailing leaves no trace in the cluster.
        var kafka = cli.kafka
        kafka.properties["enable.auto.commit"] = "false"
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: kafka, groupID: "coalition-tail-\(UUID().uuidString.prefix(8))", topics: [name],
                offsetReset: fromBeginning ? .earliest : .latest, sessionTimeout: .seconds(6)),
            logger: cli.logger)
        let limit = max
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await consumer.run() }
            group.addTask {
                var printed = 0
                for try await batch in consumer.batches {
                    for message in batch {
                        print(Self.render(message))
                        printed += 1
                        if let limit, printed >= limit { return }
                    }
                }
            }
            try await group.next()
            consumer.stop()
            try await group.waitForAll()
        }
    }

    static func render(_ message: KafkaMessage) -> String {
        var head = "\(message.topic)[\(message.partition)]@\(message.offset)"
        if let key = message.keyString { head += " key=\(key)" }
        var body = message.valueString
        if let event = try? CloudEvent(kafkaMessage: message) {
            head += " type=\(event.type) id=\(event.id) source=\(event.source)"
            if let subject = event.subject { head += " subject=\(subject)" }
            if let time = event.time { head += " time=\(RFC3339.string(from: time))" }
            body = String(decoding: event.data, as: UTF8.self)
        } else {
            let extra = message.headers.map { "\($0.key)=\($0.stringValue ?? "")" }
            if !extra.isEmpty { head += " " + extra.joined(separator: " ") }
        }
        if let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) {
            body = String(decoding: pretty, as: UTF8.self)
        }
        return head + "\n" + body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }
}
