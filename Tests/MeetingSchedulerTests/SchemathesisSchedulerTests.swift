import Foundation
import Testing
import TestSupport

/// schemathesis generates requests from docs/openapi/meeting-scheduler.yaml against the running
/// scheduler: whatever it sends, no response may be a server error;
/// nor may a NUL in any URL parameter (Tests/Judges/nul_probe.py).
extension SchedulerIntegrationTests {
    @Suite("Scheduler OpenAPI fuzzing")
    struct SchemathesisSchedulerTests {
        @Test("schemathesis, and a NUL in every URL parameter, find no 5xx over the scheduler OpenAPI file")
        func noServerErrors() async throws {
            try await SchedulerHarness.with("schedfuzz") { harness in
                try await harness.stakeholder("Officer Diaz", .lawEnforcement, area: "brooklyn-05")
                let fuzz = try await OpenAPIFuzzing.schemathesis(
                    spec: "meeting-scheduler.yaml", baseURL: harness.service.baseURL, bearer: SchedulerHarness.operatorToken,
                    seed: 20261122, maxExamples: 25)
                #expect(fuzz.status == 0, "\(fuzz.tail)")
                #expect(fuzz.lines.contains { $0.contains("generated") })
                let probe = try await OpenAPIFuzzing.nulProbe(
                    spec: "meeting-scheduler.yaml", baseURL: harness.service.baseURL, bearer: SchedulerHarness.operatorToken)
                #expect(probe.status == 0, "\(probe.tail)")
                #expect(probe.lines.contains { $0.hasPrefix("probes ") })
            }
        }
    }
}
