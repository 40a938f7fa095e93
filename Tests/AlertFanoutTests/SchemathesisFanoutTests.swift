import Foundation
import Testing
import TestSupport

/// schemathesis generates requests from docs/openapi/alert-fanout.yaml against the running
/// fan-out: whatever it sends, no response may be a server error;
/// nor may a NUL in any URL parameter (Tests/Judges/nul_probe.py).
@Suite("Fan-out OpenAPI fuzzing")
struct SchemathesisFanoutTests {
    @Test("schemathesis, and a NUL in every URL parameter, find no 5xx over the fan-out OpenAPI file")
    func noServerErrors() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutfuzz") + "."
            try await TopicFixture.withNamedTopics(WebhookDeliveryTests.topics(prefix)) {
                let service = try await WebhookDeliveryTests.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: false)
                let fuzz = try await OpenAPIFuzzing.schemathesis(
                    spec: "alert-fanout.yaml", baseURL: service.baseURL, bearer: WebhookDeliveryTests.operatorToken,
                    seed: 20261122, maxExamples: 25)
                #expect(fuzz.status == 0, "\(fuzz.tail)")
                #expect(fuzz.lines.contains { $0.contains("generated") })
                let probe = try await OpenAPIFuzzing.nulProbe(
                    spec: "alert-fanout.yaml", baseURL: service.baseURL, bearer: WebhookDeliveryTests.operatorToken)
                #expect(probe.status == 0, "\(probe.tail)")
                #expect(probe.lines.contains { $0.hasPrefix("probes ") })
                #expect(try await service.stop() == 0)
            }
        }
    }
}
