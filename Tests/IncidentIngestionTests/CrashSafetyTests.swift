import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

/// Kill the ingestion process while records flow; nothing accepted is lost or published twice.
@Suite("Ingestion crash safety")
struct CrashSafetyTests {
    static let valid = 49_500
    static let invalid = 500

    @Test("SIGKILL mid-stream over 50,000 incidents.raw records: every valid record stored once, one event per revision, every invalid one rejected")
    func sigkillMidStream() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("crash") + "."
            let topics = ["incidents.raw", "incidents.normalized", "incidents.rejected", "incidents.raw.dlt"].map { prefix + $0 }
            try await TopicFixture.withNamedTopics(topics, partitions: 3) {
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
                _ = try await SourceRegistry(postgres: postgres).add(id: "bulk", name: "Bulk", timezone: "UTC")

                let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
                var records: [KafkaRecord] = []
                for index in 0..<(Self.valid + Self.invalid) {
                    // Every 100th record lacks the offset on its time: invalid.
                    let time = index % 100 == 99 ? "2025-03-14T01:20:00" : "2025-03-14T01:20:00Z"
                    let value = #"{"source":"bulk","external_id":"b\#(index)","category":"theft","occurred_at":"\#(time)","area_hint":"zone-\#(index % 7)"}"#
                    records.append(KafkaRecord(topic: prefix + "incidents.raw", key: "b\(index)", value: value))
                }
                try await producer.sendAll(records)
                await producer.shutdown()

                let environment = ["COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_KAFKA_SESSION_TIMEOUT": "6s"]
                func count(_ sql: String) async throws -> Int {
                    try await postgres.query(PostgresQuery(unsafeSQL: sql)).first!.decode(0, as: Int.self)
                }
                let first = try await ServiceProcess.start("incident-ingestion", environment: environment)
                try await eventually("some records ingested", timeout: .seconds(120)) {
                    try await count("SELECT count(*) FROM incidents") >= 5000
                }
                first.process.signal(SIGKILL)
                _ = try await first.process.waitForExit()
                let stoppedAt = try await count("SELECT count(*) FROM incidents")
                #expect(stoppedAt < Self.valid, "the kill should land mid-stream")

                let second = try await ServiceProcess.start("incident-ingestion", environment: environment)
                try await eventually("every valid record stored", timeout: .seconds(300), interval: .milliseconds(500)) {
                    try await count("SELECT count(*) FROM incidents") == Self.valid
                }
                try await eventually("every invalid record kept", timeout: .seconds(120)) {
                    try await count("SELECT count(DISTINCT original_offset::text || '/' || original_partition::text) FROM rejected_incidents") == Self.invalid
                }
                try await eventually("the outbox drained", timeout: .seconds(120)) {
                    try await count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
                }
                #expect(try await second.stop() == 0)
                #expect(try await count("SELECT count(*) FROM incident_revisions") == Self.valid)
                #expect(try await count("SELECT max(revision) FROM incidents") == 1)

                // Read back with an independent client: one event per revision (duplicates of
                // the same ce_id are possible after a crash and harmless to a deduplicating consumer).
                let judge = try ChildProcess(
                    try TestEnvironment.python(),
                    arguments: [TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/count_events.py").path,
                                try TestEnvironment.brokers(), prefix + "incidents.normalized", String(Self.valid), "180"])
                try #require(try await judge.waitForExit(timeout: .seconds(240)) == 0, "\(judge.standardError)")
                let line = try #require(judge.lines.last)
                let summary = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int])
                #expect(summary["distinct_ids"] == Self.valid)
                #expect(summary["ids_not_first_revision"] == 0)
                #expect((summary["records"] ?? 0) >= Self.valid)
            }
        }
    }
}
