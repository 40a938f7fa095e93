import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport

@Suite("Transactional outbox and inbox")
struct OutboxTests {
    struct Payload: Codable { var n: Int }

    static func event(_ n: Int, topic: String) throws -> OutboxEvent {
        OutboxEvent(
            topic: topic, key: "k\(n % 50)",
            event: try CloudEvent(id: "evt-\(n)", source: "/test/outbox", type: "coalition.test.v1", payload: Payload(n: n)))
    }

    static func publishedCount(_ postgres: PostgresClient) async throws -> Int {
        try await postgres.withConnection { connection in
            try await connection.query("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL").first!.decode(0, as: Int.self)
        }
    }

    static func relay(databaseURL: String, prefix: String) throws -> ChildProcess {
        try ChildProcess(
            try TestEnvironment.product("TestMember"), arguments: ["outbox-relay"],
            environment: [
                "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_HTTP_PORT": "0",
                "COALITION_OUTBOX_POLL_INTERVAL": "20ms", "COALITION_LOG_LEVEL": "info",
            ])
    }

    @Test("SIGKILL of the relay mid-stream loses nothing; the inbox applies each of 20,000 events exactly once")
    func relayCrashExactlyOnceEffects() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 4), logger: TestEnvironment.logger)
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            try await postgres.withConnection { _ = try await $0.execute("CREATE TABLE applied (n int PRIMARY KEY)") }
            let prefix = TestEnvironment.uniqueName("outbox") + "."
            let topic = "test.events"
            try await TopicFixture.withNamedTopics([prefix + topic], partitions: 3) {
                let total = 20_000
                var relay = try Self.relay(databaseURL: databaseURL, prefix: prefix)
                // Commit events in transactions of 500 while the relay publishes them.
                let writer = Task {
                    for start in stride(from: 0, to: total, by: 500) {
                        try await postgres.withTransaction { connection in
                            try await Outbox.enqueue(try (start..<start + 500).map { try Self.event($0, topic: topic) }, in: connection)
                        }
                    }
                }
                try await eventually("the relay to publish some events", timeout: .seconds(60)) {
                    try await Self.publishedCount(postgres) >= 3000
                }
                relay.signal(SIGKILL)
                _ = try await relay.waitForExit()
                try await writer.value
                relay = try Self.relay(databaseURL: databaseURL, prefix: prefix)
                try await eventually("every committed event published", timeout: .seconds(120)) {
                    try await Self.publishedCount(postgres) == total
                }
                relay.signal(SIGTERM)
                #expect(try await relay.waitForExit(timeout: .seconds(40)) == 0)

                // An inbox-deduplicated consumer: each event's effect lands exactly once.
                let messages = try await TopicFixture.readAll(topic: prefix + topic, timeout: .seconds(120)) { messages in
                    Set(messages.compactMap { $0.header("ce_id")?.stringValue }).count >= total
                }
                var duplicates = 0
                for message in messages {
                    let decoded = try CloudEvent(kafkaMessage: message)
                    let event = try #require(decoded)
                    let payload = try event.decodeData(as: Payload.self)
                    let applied = try await postgres.withTransaction { connection in
                        guard try await Inbox.claim(consumer: "outbox-test", eventID: event.id, in: connection) else { return false }
                        _ = try await connection.execute("INSERT INTO applied (n) VALUES (\(payload.n))")
                        return true
                    }
                    if !applied { duplicates += 1 }
                }
                let appliedCount = try await postgres.withConnection {
                    try await $0.query("SELECT count(*), coalesce(sum(n), 0)::bigint FROM applied").first!
                }
                #expect(try appliedCount.decode(0, as: Int.self) == total)
                #expect(try appliedCount.decode(1, as: Int.self) == (0..<total).reduce(0, +))
                #expect(messages.count == total + duplicates)
            }
            postgres.shutdown()
        }
    }

    @Test("SIGTERM exits 0 and every row marked published is on the topic")
    func gracefulShutdownFlushes() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let prefix = TestEnvironment.uniqueName("flush") + "."
            let topic = "test.flush"
            try await TopicFixture.withNamedTopics([prefix + topic], partitions: 1) {
                try await postgres.withTransaction { connection in
                    try await Outbox.enqueue(try (0..<5000).map { try Self.event($0, topic: topic) }, in: connection)
                }
                let relay = try Self.relay(databaseURL: databaseURL, prefix: prefix)
                try await eventually("the relay to start publishing", timeout: .seconds(60)) {
                    try await Self.publishedCount(postgres) > 0
                }
                relay.signal(SIGTERM)
                #expect(try await relay.waitForExit(timeout: .seconds(40)) == 0, "\(relay.standardError)")
                let published = try await postgres.withConnection { connection in
                    try await connection.query("SELECT payload FROM outbox WHERE published_at IS NOT NULL").map {
                        try CoalitionJSON.decoder.decode(Payload.self, from: Data(try $0.decode(0, as: [UInt8].self))).n
                    }
                }
                let onTopic = try await TopicFixture.readAll(topic: prefix + topic, timeout: .seconds(60)) { $0.count >= published.count }
                let numbers = Set(try onTopic.map { try CoalitionJSON.decoder.decode(Payload.self, from: Data($0.value)).n })
                #expect(Set(published).isSubset(of: numbers))
            }
            postgres.shutdown()
        }
    }

    @Test("the inbox claims an event id once per consumer")
    func inboxClaims() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let first = try await postgres.withTransaction { try await Inbox.claim(consumer: "a", eventID: "e1", in: $0) }
            let again = try await postgres.withTransaction { try await Inbox.claim(consumer: "a", eventID: "e1", in: $0) }
            let otherConsumer = try await postgres.withTransaction { try await Inbox.claim(consumer: "b", eventID: "e1", in: $0) }
            #expect(first)
            #expect(!again)
            #expect(otherConsumer)
            postgres.shutdown()
        }
    }
}
