import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import TestSupport
@testable import IncidentIngestion

/// Shared pieces of the aggregator's integration tests: its topics under a test prefix,
/// starting the real executable, publishing incident revisions, reading its state back.
enum MetricsFixtures {
    static let operatorToken = "metrics-test-operator-token"

    /// Every topic the aggregator reads (with its dead-letter topic) or writes, under `prefix`.
    static func topics(_ prefix: String) -> [String] {
        let inputs = ["incidents.normalized", "alerts.delivered", "meetings.events", "feedback.responses"]
        let outputs = ["metrics.incidents", "metrics.response-times", "metrics.alerts", "metrics.engagement", "metrics.hotspots"]
        return (inputs + inputs.map { $0 + ".dlt" } + outputs).map { prefix + $0 }
    }

    /// A binary-mode CloudEvent record of `payload`.
    static func event(_ payload: some Encodable, type: String, id: String = UUID().uuidString.lowercased(), key: String, topic: String) throws -> KafkaRecord {
        try CloudEvent(id: id, source: "/test", type: type, payload: payload).kafkaRecord(topic: topic, key: key)
    }

    /// `GET path` on the service in the operator scope, as a JSON object.
    static func getJSON(_ service: ServiceProcess, _ path: String, operator: Bool = true) async throws -> [String: Any] {
        let answer = try await HTTPProbe.exchange("GET", service.baseURL + path, bearer: `operator` ? operatorToken : nil)
        guard answer.status == 200, let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any] else {
            throw TestDatabaseError("GET \(path) answered \(answer.status): \(answer.body)")
        }
        return object
    }

    /// The series of `GET /v1/metrics/...` keyed by window start.
    static func series(_ service: ServiceProcess, _ path: String, operator: Bool = true) async throws -> [Date: [String: Any]] {
        let object = try await getJSON(service, path, operator: `operator`)
        var result: [Date: [String: Any]] = [:]
        for point in object["series"] as? [[String: Any]] ?? [] {
            guard let start = (point["window_start"] as? String).flatMap(RFC3339.date(from:)) else { continue }
            result[start] = point
        }
        return result
    }

    static func start(databaseURL: String, prefix: String, extra: [String: String] = [:]) async throws -> ServiceProcess {
        let environment = [
            "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_OPERATOR_TOKEN": operatorToken,
            "COALITION_KAFKA_SESSION_TIMEOUT": "6s",
        ]
        return try await ServiceProcess.start("metrics-aggregator", environment: environment.merging(extra) { _, new in new })
    }

    static func incident(
        id: UUID = UUID(), revision: Int = 1, category: IncidentCategory = .theft, area: String = "downtown", occurredAt: Date,
        cell: String? = "dr5regw"
    ) -> CanonicalIncident {
        CanonicalIncident(
            id: id, revision: revision, source: "test", externalId: id.uuidString, category: category, sourceCategory: category.rawValue,
            categoryGroup: category.group, occurredAt: occurredAt, areaId: area, cell: cell, severity: category.defaultSeverity,
            sensitive: category.isSensitive, ingestedAt: occurredAt)
    }

    static func record(_ incident: CanonicalIncident, topic: String) throws -> KafkaRecord {
        let key = incident.id.uuidString.lowercased()
        return try CloudEvent(id: "\(key)#\(incident.revision)", source: "/test", type: EventType.incident, payload: incident)
            .kafkaRecord(topic: topic, key: key)
    }

    static func publish(_ records: [KafkaRecord]) async throws {
        let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
        for chunk in stride(from: 0, to: records.count, by: 5000) {
            try await producer.sendAll(Array(records[chunk..<min(chunk + 5000, records.count)]))
        }
        await producer.shutdown()
    }

    /// Migrates `postgres` and imports the NYC 311 month through the ingestion library.
    static func importNYC(_ postgres: PostgresClient) async throws {
        try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
        let registry = SourceRegistry(postgres: postgres)
        _ = try await registry.add(id: "nyc-311", name: "nyc-311", timezone: "America/New_York")
        guard let labels = ShippedCategories.labels(for: "nyc-311") else { throw TestDatabaseError("no shipped nyc-311 categories") }
        try await registry.setCategories(source: "nyc-311", labels: labels)
        let importer = CSVImporter(store: IncidentStore(postgres: postgres, logger: TestEnvironment.logger))
        _ = try await importer.run(
            file: MetricsGroundTruthTests.dataDirectory.appendingPathComponent("nyc_311_animal_complaints_2025-03.csv"), mapping: "nyc-311")
    }

    static func connect(_ databaseURL: String) throws -> PostgresClient {
        try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
    }

    /// Records applied so far (the sum of the stored next offsets of `topic`).
    static func applied(_ postgres: PostgresClient, topic: String) async throws -> Int {
        let rows = try await postgres.query("SELECT coalesce(sum(next_offset), 0)::bigint FROM metric_consumer_offsets WHERE topic = \(topic)")
        return Int(try rows.first?.decode(0, as: Int64.self) ?? 0)
    }

    /// Waits until `count` records of `topic` are applied; a failure quotes the end of the
    /// service's log when `service` is given.
    static func waitUntilApplied(
        _ postgres: PostgresClient, topic: String, count: Int, timeout: Duration = .seconds(180), service: ServiceProcess? = nil
    ) async throws {
        do {
            try await eventually("\(count) records of \(topic) applied", timeout: timeout, interval: .milliseconds(200)) {
                if let service, !service.process.isRunning { throw TestDatabaseError("the aggregator exited") }
                return try await applied(postgres, topic: topic) >= count
            }
        } catch {
            guard let service else { throw error }
            throw TestDatabaseError("\(error); aggregator log:\n" + service.process.standardError.split(separator: "\n").suffix(40).joined(separator: "\n"))
        }
    }

    /// Every window row as `metric granularity start dimensions → count` (zero rows left out:
    /// a count moved away and a window never touched read the same).
    static func snapshot(_ postgres: PostgresClient) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try await postgres.query("""
            SELECT metric || ' ' || granularity || ' ' || to_char(window_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || ' ' || dimension_key, count
            FROM metric_windows WHERE count <> 0
            """) {
            let (key, count) = try row.decode((String, Int64).self)
            result[key] = count
        }
        return result
    }

    /// Daily counts by area and category from the aggregator, keyed `day area category`.
    static func dailyCounts(_ postgres: PostgresClient, timezone: String) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try await postgres.query("""
            SELECT to_char(window_start AT TIME ZONE \(timezone), 'YYYY-MM-DD') || ' ' || (dimensions ->> 'area') || ' ' || (dimensions ->> 'category'), count
            FROM metric_windows
            WHERE metric = 'incidents' AND granularity = 'day' AND dimensions ->> 'area' <> '*' AND dimensions ->> 'category' <> '*' AND count <> 0
            """) {
            let (key, count) = try row.decode((String, Int64).self)
            result[key] = count
        }
        return result
    }
}
