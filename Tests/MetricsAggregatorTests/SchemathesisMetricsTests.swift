import Foundation
import Testing
import TestSupport

/// schemathesis generates requests from docs/openapi/metrics-aggregator.yaml against the
/// running aggregator (with a few incidents counted): whatever it sends, no response may be a
/// server error; nor may a NUL in any URL parameter (Tests/Judges/nul_probe.py).
@Suite("Metrics OpenAPI fuzzing", .serialized)
struct SchemathesisMetricsTests {
    @Test("schemathesis, and a NUL in every URL parameter, find no 5xx over the metrics OpenAPI file")
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
                // The stream never ends by design; its 400 answers are covered by the service test.
                let fuzz = try await OpenAPIFuzzing.schemathesis(
                    spec: "metrics-aggregator.yaml", baseURL: service.baseURL, bearer: MetricsFixtures.operatorToken,
                    seed: 20261206, maxExamples: 40, excludedPaths: ["/v1/stream"])
                #expect(fuzz.status == 0, "\(fuzz.tail)")
                #expect(fuzz.lines.contains { $0.contains("generated") })
                let probe = try await OpenAPIFuzzing.nulProbe(
                    spec: "metrics-aggregator.yaml", baseURL: service.baseURL, bearer: MetricsFixtures.operatorToken, excludedPaths: ["/v1/stream"])
                #expect(probe.status == 0, "\(probe.tail)")
                #expect(probe.lines.contains { $0.hasPrefix("probes ") })
                #expect(try await service.stop() == 0)
            }
        }
    }
}
