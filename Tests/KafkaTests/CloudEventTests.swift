import Contracts
import Foundation
import Kafka
import Testing
import TestSupport

@Suite("CloudEvents over Kafka")
struct CloudEventTests {
    struct Payload: Codable, Equatable {
        var incidentId: String
        var count: Int
    }

    @Test("binary-mode events are read back by the CloudEvents Python SDK")
    func binaryModeReadByPythonSDK() async throws {
        try await TopicFixture.withTopics(["cebinary"]) { topics in
            let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
            let time = try #require(RFC3339.date(from: "2025-03-14T05:20:00.250Z"))
            let event = try CloudEvent(
                id: "incident-1#3", source: "/coalition/incident-ingestion", type: EventType.incident, time: time,
                subject: "incident-1", payload: Payload(incidentId: "incident-1", count: 3))
            try await producer.send(event.kafkaRecord(topic: topics[0], key: "incident-1"))
            await producer.shutdown()

            let judge = try ChildProcess(
                try TestEnvironment.python(),
                arguments: [TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/cloudevents_judge.py").path, "read", try TestEnvironment.brokers(), topics[0]])
            let status = try await judge.waitForExit(timeout: .seconds(90))
            try #require(status == 0, "judge failed: \(judge.standardError)")
            let line = try #require(judge.lines.last)
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(parsed["id"] as? String == "incident-1#3")
            #expect(parsed["source"] as? String == "/coalition/incident-ingestion")
            #expect(parsed["type"] as? String == "coalition.incident.v1")
            #expect(parsed["specversion"] as? String == "1.0")
            #expect(parsed["subject"] as? String == "incident-1")
            #expect(parsed["datacontenttype"] as? String == "application/json")
            #expect((parsed["time"] as? String).flatMap(RFC3339.date(from:)) == time)
            let data = try #require(parsed["data"] as? [String: Any])
            #expect(data["incident_id"] as? String == "incident-1")
            #expect(data["count"] as? Int == 3)
        }
    }

    @Test("structured-mode events written by the Python SDK decode")
    func structuredModeFromPythonSDK() async throws {
        try await TopicFixture.withTopics(["cestructured"]) { topics in
            let judge = try ChildProcess(
                try TestEnvironment.python(),
                arguments: [TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/cloudevents_judge.py").path, "write-structured", try TestEnvironment.brokers(), topics[0]])
            let status = try await judge.waitForExit(timeout: .seconds(90))
            try #require(status == 0, "judge failed: \(judge.standardError)")
            let messages = try await TopicFixture.readAll(topic: topics[0]) { !$0.isEmpty }
            let first = try #require(messages.first)
            let event = try #require(try CloudEvent(kafkaMessage: first))
            #expect(event.id == "judge-1")
            #expect(event.source == "/judge")
            #expect(event.type == "coalition.test.v1")
            #expect(event.subject == "s-1")
            #expect(event.time == RFC3339.date(from: "2025-03-14T05:20:00Z"))
            let data = try #require(try JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any])
            #expect(data["answer"] as? Int == 42)
        }
    }

    @Test("plain JSON is not mistaken for a CloudEvent; a broken one is refused")
    func plainAndBroken() throws {
        let plain = KafkaMessage(topic: "t", partition: 0, offset: 0, key: nil, value: Array("{}".utf8), headers: [], timestamp: nil)
        #expect(try CloudEvent(kafkaMessage: plain) == nil)
        let broken = KafkaMessage(
            topic: "t", partition: 0, offset: 0, key: nil, value: Array("{}".utf8),
            headers: [KafkaHeader(key: "ce_specversion", string: "1.0"), KafkaHeader(key: "ce_id", string: "x")], timestamp: nil)
        #expect(throws: KafkaError.self) { try CloudEvent(kafkaMessage: broken) }
    }
}
