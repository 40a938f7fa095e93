import Foundation
import Testing
import TestSupport

/// schemathesis generates requests from docs/openapi/metrics-aggregator.yaml against the
/// running aggregator (with a few incidents counted): whatever it sends, no response may be a
/// server error.
@Suite("Metrics OpenAPI fuzzing", .serialized)
struct SchemathesisMetricsTests {
    @Test("schemathesis over the metrics OpenAPI file finds no 5xx")
    func noServerErrors() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("metricsfuzz") + "."
            let topic = prefix + "incidents.normalized"
            try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix)
                let start = try Date.ISO8601FormatStyle().parse("2025-03-01T00:00:00Z")
                let records = try (0..<50).map { index in
                    try MetricsFixtures.record(
                        MetricsFixtures.incident(category: index % 2 == 0 ? .theft : .assault, occurredAt: start.addingTimeInterval(Double(index) * 3600)),
                        topic: topic)
                }
                try await MetricsFixtures.publish(records)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: records.count, service: service)
                let schemathesis = TestEnvironment.repositoryRoot.appendingPathComponent(".local/venv/bin/schemathesis")
                let run = try ChildProcess(
                    schemathesis,
                    arguments: [
                        "run", TestEnvironment.repositoryRoot.appendingPathComponent("docs/openapi/metrics-aggregator.yaml").path,
                        "--url", service.baseURL, "--checks", "not_a_server_error", "--max-examples", "40",
                        "--seed", "20261206", "-H", "Authorization: Bearer \(MetricsFixtures.operatorToken)", "--no-color",
                        // The stream never ends by design; its 400 answers are covered by the service test.
                        "--exclude-path", "/v1/stream",
                    ],
                    environment: ["SCHEMATHESIS_HOOKS": "", "HOME": FileManager.default.temporaryDirectory.path])
                let status = try await run.waitForExit(timeout: .seconds(600))
                #expect(status == 0, "\(run.lines.suffix(40).joined(separator: "\n"))")
                #expect(run.lines.contains { $0.contains("generated") })
                #expect(try await service.stop() == 0)
            }
        }
    }
}
