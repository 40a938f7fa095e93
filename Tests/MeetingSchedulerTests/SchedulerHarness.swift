import Contracts
import Foundation
import Kafka
import Postgres
import Testing
import ServiceKit
import TestSupport

/// A `meeting-scheduler` process of a test's own: its own database (migrated), topic prefix
/// and topics; stakeholders written straight into the shared table, as the fan-out would.
struct SchedulerHarness {
    static let operatorToken = "scheduler-operator-secret"

    let service: ServiceProcess
    let postgres: PostgresClient
    let prefix: String
    let databaseURL: String

    static func topics(_ prefix: String) -> [String] {
        ["meetings.events", "alerts.requested", "metrics.hotspots", "metrics.hotspots.dlt"].map { prefix + $0 }
    }

    static func environment(databaseURL: String, prefix: String) -> [String: String] {
        [
            "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_OPERATOR_TOKEN": operatorToken,
            "COALITION_KAFKA_SESSION_TIMEOUT": "6s", "COALITION_DATABASE_POOL_SIZE": "8",
        ]
    }

    static func with<T>(_ label: String, _ body: (SchedulerHarness) async throws -> T) async throws -> T {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName(label) + "."
            return try await TopicFixture.withNamedTopics(topics(prefix)) {
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 4), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
                let service = try await ServiceProcess.start("meeting-scheduler", environment: environment(databaseURL: databaseURL, prefix: prefix))
                do {
                    let result = try await body(SchedulerHarness(service: service, postgres: postgres, prefix: prefix, databaseURL: databaseURL))
                    _ = try await service.stop()
                    return result
                } catch {
                    _ = try? await service.stop()
                    print("meeting-scheduler log:\n" + service.process.standardError.suffix(6000))
                    throw error
                }
            }
        }
    }

    /// A stakeholder (with an email channel, subscribed to `area` when given).
    @discardableResult
    func stakeholder(_ name: String, _ role: StakeholderRole, timezone: String = "America/New_York", area: String? = nil) async throws -> UUID {
        let id = UUID()
        try await postgres.execute("INSERT INTO stakeholders (id, name, role, timezone) VALUES (\(id), \(name), \(role.rawValue), \(timezone))")
        let channel = UUID()
        try await postgres.execute("INSERT INTO stakeholder_channels (id, stakeholder_id, type, address) VALUES (\(channel), \(id), 'email', \(name + "@example.org"))")
        if let area {
            try await postgres.execute("INSERT INTO subscriptions (id, stakeholder_id, areas, channel_ids) VALUES (\(UUID()), \(id), \([area]), \([channel]))")
        }
        return id
    }

    func post(_ path: String, _ body: Any, token: String? = operatorToken) async throws -> (status: Int, json: [String: Any], text: String) {
        let data = try JSONSerialization.data(withJSONObject: body)
        let (status, text) = try await HTTPProbe.post(service.baseURL + path, body: data, bearer: token)
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return (status, json, text)
    }

    func put(_ path: String, _ body: Any) async throws -> Int {
        try await HTTPProbe.exchange("PUT", service.baseURL + path, body: try JSONSerialization.data(withJSONObject: body), bearer: Self.operatorToken).status
    }

    func venue(capacity: Int = 30, accessible: Bool = true, opens: String = "08:00", closes: String = "22:00") async throws -> String {
        let answer = try await post("/v1/venues", [
            "name": "Hall \(UUID().uuidString.prefix(4))", "area": "brooklyn-05", "capacity": capacity, "accessible": accessible,
            "timezone": "America/New_York", "opens_at": opens, "closes_at": closes,
        ])
        guard answer.status == 201, let id = answer.json["id"] as? String else { throw TestDatabaseError("venue not created: \(answer.text)") }
        return id
    }

    /// Records on one of this harness's topics, read back with an independent consumer.
    func records(_ topic: String, atLeast count: Int) async throws -> [KafkaMessage] {
        try await TopicFixture.readAll(topic: prefix + topic, timeout: .seconds(60)) { $0.count >= count }
    }
}

extension KafkaMessage {
    func header(_ name: String) -> String? { headers.first { $0.key == name }?.stringValue }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any] ?? [:] }
}

/// Every suite that runs the scheduler with Kafka, one at a time: librdkafka 2.8.0 can crash
/// (SIGSEGV in rd_kafka_metadata_update_op, as in confluentinc/librdkafka#5280) when clients
/// in one process see topics of parallel tests being deleted.
@Suite("Scheduler integration", .serialized)
struct SchedulerIntegrationTests {}
