import Foundation
import Kafka
import Testing
import TestSupport

@Suite("Kafka produce and consume")
struct ProduceConsumeTests {
    @Test("records round-trip with keys, headers and per-key order")
    func roundTrip() async throws {
        try await TopicFixture.withTopics(["roundtrip"], partitions: 3) { topics in
            let topic = topics[0]
            let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
            let records = (0..<300).map { index in
                KafkaRecord(
                    topic: topic, key: "key-\(index % 7)", value: "value-\(index)",
                    headers: [KafkaHeader(key: "index", string: String(index)), KafkaHeader(key: "empty", value: nil)])
            }
            let reports = try await producer.sendAll(records)
            #expect(reports.count == 300)
            #expect(Set(reports.map(\.partition)).isSubset(of: [0, 1, 2]))

            let messages = try await TopicFixture.readAll(topic: topic) { $0.count >= 300 }
            #expect(messages.count == 300)
            for message in messages {
                let index = try #require(message.header("index")?.stringValue.flatMap(Int.init))
                #expect(message.keyString == "key-\(index % 7)")
                #expect(message.valueString == "value-\(index)")
                #expect(message.header("empty") != nil)
                #expect(message.header("empty")?.value == nil)
            }
            // Every key lands on one partition, in the order it was sent.
            for key in 0..<7 {
                let sameKey = messages.filter { $0.keyString == "key-\(key)" }
                #expect(Set(sameKey.map(\.partition)).count == 1)
                let indices = sameKey.sorted { $0.offset < $1.offset }.compactMap { $0.header("index")?.stringValue.flatMap(Int.init) }
                #expect(indices == indices.sorted())
            }
            await producer.shutdown()
        }
    }

    @Test("a record for a partition that does not exist fails as not persisted")
    func notPersistedError() async throws {
        try await TopicFixture.withTopics(["missingpartition"], partitions: 1) { topics in
            let producer = try KafkaProducer(
                configuration: .init(kafka: try TestEnvironment.kafka(), deliveryTimeout: .seconds(5)), logger: TestEnvironment.logger)
            // Learn the topic's metadata first so the failure is about the partition alone.
            try await producer.send(KafkaRecord(topic: topics[0], key: "k", value: "ok"))
            let error = await #expect(throws: KafkaError.self) {
                try await producer.send(KafkaRecord(topic: topics[0], key: nil, value: Array("x".utf8), partition: 7))
            }
            #expect(error?.persistence == .notPersisted)
            #expect(error?.isRetriable == true)
            await producer.shutdown()
        }
    }

    @Test("topic creation is idempotent and applies partitions and config")
    func topicCreationIdempotent() async throws {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let name = TestEnvironment.uniqueName("idempotent")
        let spec = KafkaTopicSpec(name: name, partitions: 4, configuration: ["cleanup.policy": "compact"])
        let first = try await admin.createTopics([spec])
        let second = try await admin.createTopics([spec])
        #expect(first[name] == .created)
        #expect(second[name] == .alreadyExisted)
        let topics = try await admin.topics()
        #expect(topics[name] == 4)
        // Not deleted afterwards: see TopicFixture.
    }

    @Test("dead letters keep the original bytes and say where they came from and why")
    func deadLetterHeaders() async throws {
        try await TopicFixture.withTopics(["orders"], partitions: 1) { topics in
            let topic = topics[0]
            let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
            try await admin.createTopics([KafkaTopicSpec(name: topic + ".dlt", partitions: 1)])
            let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
            let original: [UInt8] = Array("{not json".utf8) + [0xFF, 0x00]
            try await producer.send(KafkaRecord(topic: topic, key: Array("k1".utf8), value: original, headers: [KafkaHeader(key: "origin", string: "upstream")]))
            let received = try await TopicFixture.readAll(topic: topic) { !$0.isEmpty }
            let message = try #require(received.first)
            try await DeadLetterPublisher(producer: producer, consumerGroup: "orders-group")
                .send(message, errorCode: "invalid_json", errorMessage: "unexpected end of input")

            let dead = try await TopicFixture.readAll(topic: topic + ".dlt") { !$0.isEmpty }
            let letter = try #require(dead.first)
            #expect(letter.value == original)
            #expect(letter.key == Array("k1".utf8))
            #expect(letter.header("origin")?.stringValue == "upstream")
            #expect(letter.header(DeadLetterPublisher.Header.originalTopic)?.stringValue == topic)
            #expect(letter.header(DeadLetterPublisher.Header.originalPartition)?.stringValue == "0")
            #expect(letter.header(DeadLetterPublisher.Header.originalOffset)?.stringValue == String(message.offset))
            #expect(letter.header(DeadLetterPublisher.Header.consumerGroup)?.stringValue == "orders-group")
            #expect(letter.header(DeadLetterPublisher.Header.errorCode)?.stringValue == "invalid_json")
            #expect(letter.header(DeadLetterPublisher.Header.errorMessage)?.stringValue == "unexpected end of input")
            await producer.shutdown()
        }
    }
}
