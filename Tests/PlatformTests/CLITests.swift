import Contracts
import Foundation
import Kafka
import Postgres
import Testing
import TestSupport

/// The `coalition` CLI as an operator runs it.
@Suite("coalition CLI")
struct CLITests {
    static func coalition(_ arguments: [String], environment: [String: String]) throws -> ChildProcess {
        try ChildProcess(try TestEnvironment.product("coalition"), arguments: arguments, environment: environment)
    }

    @Test("two processes migrating at once apply each migration exactly once")
    func concurrentMigrate() async throws {
        try await withTemporaryDatabase { databaseURL in
            let environment = ["COALITION_DATABASE_URL": databaseURL]
            let first = try Self.coalition(["migrate"], environment: environment)
            let second = try Self.coalition(["migrate"], environment: environment)
            #expect(try await first.waitForExit() == 0, "\(first.standardError)")
            #expect(try await second.waitForExit() == 0, "\(second.standardError)")
            let applied = (first.lines + second.lines).filter { $0.hasPrefix("applied ") }
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            let rows = try await postgres.withConnection {
                try await $0.query("SELECT name, count(*) OVER () FROM coalition_schema_migrations ORDER BY name")
            }
            postgres.shutdown()
            let names = try rows.map { try $0.decode(0, as: String.self) }
            #expect(names == names.sorted())
            #expect(Set(names).count == names.count)
            #expect(names.contains("0001_platform.sql"))
            // Between them the two processes applied every migration once.
            #expect(applied.count == names.count)
        }
    }

    @Test("topics create makes every contract topic once; tail prints a CloudEvent readably")
    func topicsAndTail() async throws {
        let prefix = TestEnvironment.uniqueName("cli") + "."
        let environment = ["COALITION_TOPIC_PREFIX": prefix]
        let create = try Self.coalition(["topics", "create"], environment: environment)
        #expect(try await create.waitForExit() == 0, "\(create.standardError)")
        let again = try Self.coalition(["topics", "create"], environment: environment)
        #expect(try await again.waitForExit() == 0)
        let expectedCount = Topic.allCases.count + Topic.allCases.filter(\.hasDeadLetterTopic).count
        #expect(create.lines.filter { $0.hasPrefix("created") }.count == expectedCount)
        #expect(again.lines.filter { $0.hasPrefix("exists") }.count == expectedCount)

        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let topics = try await admin.topics()
        #expect(topics[prefix + "incidents.normalized"] == 6)
        #expect(topics[prefix + "metrics.hotspots"] == 3)
        #expect(topics[prefix + "incidents.raw.dlt"] == 1)

        let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
        let event = CloudEvent(
            id: "inc-7#1", source: "/coalition/incident-ingestion", type: EventType.incident, subject: "inc-7",
            data: Array(#"{"category":"noise","id":"inc-7"}"#.utf8))
        try await producer.send(event.kafkaRecord(topic: prefix + "incidents.normalized", key: "inc-7"))
        await producer.shutdown()
        let tail = try Self.coalition(["tail", "incidents.normalized", "--from-beginning", "--max", "1"], environment: environment)
        #expect(try await tail.waitForExit(timeout: .seconds(60)) == 0, "\(tail.standardError)")
        let output = tail.lines.joined(separator: "\n")
        #expect(output.contains("type=coalition.incident.v1 id=inc-7#1"))
        #expect(output.contains("key=inc-7"))
        #expect(output.contains(#""category" : "noise""#))
    }
}
