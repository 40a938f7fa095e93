import Contracts
import Foundation
import Kafka
import Postgres
import Testing
import TestSupport
@testable import IncidentIngestion

/// `incidents.raw` end to end through the real service process.
@Suite("Kafka intake")
struct KafkaIntakeTests {
    @Test("plain JSON and CloudEvents are ingested once; bad records and unknown sources land on incidents.rejected")
    func rawTopicIntake() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("raw") + "."
            try await TopicFixture.withNamedTopics(
                [prefix + "incidents.raw", prefix + "incidents.normalized", prefix + "incidents.rejected", prefix + "incidents.raw.dlt"]
            ) {
                let service = try await ServiceProcess.start("incident-ingestion", environment: [
                    "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_KAFKA_SESSION_TIMEOUT": "6s",
                ])
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                _ = try await SourceRegistry(postgres: postgres).add(id: "watch-app", name: "Neighbourhood watch", timezone: "UTC")

                let plain = #"{"source":"watch-app","external_id":"w-1","category":"vandalism","occurred_at":"2025-03-14T01:20:00Z","location":{"lat":47.61,"lon":-122.33}}"#
                let cloudEventData = #"{"source":"watch-app","external_id":"w-2","category":"noise","occurred_at":"2025-03-14T02:00:00+01:00","area_hint":"north"}"#
                let event = CloudEvent(id: "evt-w-2", source: "/watch-app", type: "org.watch.report", data: Array(cloudEventData.utf8))
                let bad = #"{"source":"watch-app","external_id":"w-3","category":"noise","occurred_at":"yesterday"}"#
                let stranger = #"{"source":"nobody","external_id":"n-1","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x"}"#
                let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
                let topic = prefix + "incidents.raw"
                try await producer.sendAll([
                    KafkaRecord(topic: topic, key: "w-1", value: plain),
                    event.kafkaRecord(topic: topic, key: "w-2"),
                    KafkaRecord(topic: topic, key: "w-3", value: bad),
                    KafkaRecord(topic: topic, key: "n-1", value: stranger),
                    KafkaRecord(topic: topic, key: "w-1", value: plain),  // a redelivery: changes nothing
                ])
                await producer.shutdown()

                let normalized = try await TopicFixture.readAll(topic: prefix + "incidents.normalized", timeout: .seconds(90)) { $0.count >= 2 }
                let incidents = try normalized.map { try #require(try CloudEvent(kafkaMessage: $0)).decodeData(as: CanonicalIncident.self) }
                #expect(Set(incidents.map(\.externalId)) == ["w-1", "w-2"])
                #expect(incidents.first { $0.externalId == "w-2" }?.category == .noise)
                let rejected = try await TopicFixture.readAll(topic: prefix + "incidents.rejected", timeout: .seconds(60)) { $0.count >= 2 }
                let reasons = rejected.map(\.valueString).joined()
                #expect(reasons.contains("invalid_time"))
                #expect(reasons.contains("unknown_source"))
                // The bad record names where it came from, in headers and in the table.
                let invalid = try #require(rejected.first { $0.valueString.contains("invalid_time") })
                #expect(invalid.header("ce_originaltopic")?.stringValue == prefix + "incidents.raw")
                #expect(invalid.header("ce_originaloffset")?.stringValue == "2")
                let kept = try await postgres.query("""
                    SELECT channel, original_topic, original_offset, convert_from(original, 'UTF8'), reasons::text
                    FROM rejected_incidents ORDER BY id
                    """)
                #expect(kept.count == 2)
                let first = try #require(kept.first)
                #expect(try first.decode(1, as: String?.self) == prefix + "incidents.raw")
                #expect(try first.decode(2, as: Int?.self) == 2)
                #expect(try first.decode(3, as: String.self) == bad)
                // Stored once each, revision 1: the duplicate record did not make a revision.
                let rows = try await postgres.query("SELECT external_id, revision FROM incidents ORDER BY external_id")
                #expect(try rows.map { try $0.decode((String, Int).self) }.map { "\($0.0)#\($0.1)" } == ["w-1#1", "w-2#1"])
                #expect(try await service.stop() == 0)
            }
        }
    }
}
