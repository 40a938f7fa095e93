import Foundation
import Kafka
import Logging

/// Producer and consumer throughput of our Kafka layer vs kcat (same librdkafka, broker, data).
struct KafkaBench {
    let brokers: String
    let kcat: String
    let lines: [String]
    let dataFile: URL
    let logger: Logger

    /// Rounds per measurement; ours and the reference alternate, and the median counts, so a
    /// burst of load from elsewhere on the machine does not decide the ratio.
    static let rounds = 5

    func run() async throws -> [BenchResult] {
        let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers, statisticsInterval: .zero), logger: logger)
        let count = Double(lines.count)
        // Same producer settings for both: idempotent, acks=all, 5 ms linger.
        let producerSettings = ["-X", "enable.idempotence=true", "-X", "linger.ms=5", "-X", "acks=all"]
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: brokers, clientID: "bench", statisticsInterval: .zero)), logger: logger)
        var produce: (ours: [Double], kcat: [Double]) = ([], [])
        var consume: (ours: [Double], kcat: [Double]) = ([], [])
        var topics: [String] = []
        for round in 1...Self.rounds {
            let stamp = UUID().uuidString.prefix(8)
            let kcatTopic = "bench.kcat.\(stamp)"
            let oursTopic = "bench.ours.\(stamp)"
            topics += [kcatTopic, oursTopic]
            try await admin.createTopics([KafkaTopicSpec(name: kcatTopic, partitions: 1), KafkaTopicSpec(name: oursTopic, partitions: 1)])
            say("kafka round \(round)/\(Self.rounds): produce (kcat, ours), consume (kcat, ours)")
            produce.kcat.append(count / (try await measure {
                try runCommand(kcat, ["-P", "-q", "-b", brokers, "-t", kcatTopic, "-l"] + producerSettings + [dataFile.path])
            }))
            let records = lines.map { KafkaRecord(topic: oursTopic, key: nil, value: Array($0.utf8)) }
            produce.ours.append(count / (try await measure { try await producer.sendAll(records) }))
            // Each side reads what the other produced.
            consume.kcat.append(count / (try await measure {
                try runCommand(kcat, ["-C", "-q", "-b", brokers, "-t", oursTopic, "-o", "beginning", "-e", "-c", String(lines.count), "-f", "%s\n"])
            }))
            consume.ours.append(count / (try await consumeAll(topic: kcatTopic, expected: lines.count)))
        }
        await producer.shutdown()
        try? await admin.deleteTopics(topics)
        return [
            BenchResult(name: "Kafka produce (delivery-acknowledged)", ours: median(produce.ours), reference: median(produce.kcat), referenceName: "kcat -P", unit: "msg/s"),
            BenchResult(name: "Kafka consume (group member)", ours: median(consume.ours), reference: median(consume.kcat), referenceName: "kcat -C", unit: "msg/s"),
        ]
    }

    /// Time from the first record to the last: the group join (a broker-side delay of a few
    /// seconds for a new group) is not throughput and kcat -C does not join a group.
    private func consumeAll(topic: String, expected: Int) async throws -> Double {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: KafkaConfiguration(brokers: brokers, clientID: "bench", statisticsInterval: .zero),
                groupID: "bench-\(UUID().uuidString.prefix(8))", topics: [topic], maximumBatchSize: 5000),
            logger: logger)
        return try await withThrowingTaskGroup(of: Double?.self) { group in
            group.addTask { try await consumer.run(); return nil }
            group.addTask {
                var received = 0
                var start: ContinuousClock.Instant?
                for try await batch in consumer.batches {
                    if start == nil { start = .now }
                    received += batch.count
                    try consumer.markProcessed(batch)
                    if received >= expected { break }
                }
                let elapsed = ContinuousClock.now - start!
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
            var seconds = 0.0
            while let next = try await group.next() {
                if let value = next { seconds = value; consumer.stop() }
            }
            return seconds
        }
    }
}
