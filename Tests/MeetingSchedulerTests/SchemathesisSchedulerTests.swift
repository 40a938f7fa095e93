import Foundation
import Testing
import TestSupport

/// schemathesis generates requests from docs/openapi/meeting-scheduler.yaml against the running
/// scheduler: whatever it sends, no response may be a server error.
extension SchedulerIntegrationTests {
    @Suite("Scheduler OpenAPI fuzzing")
    struct SchemathesisSchedulerTests {
        @Test("schemathesis over the scheduler OpenAPI file finds no 5xx")
        func noServerErrors() async throws {
            try await SchedulerHarness.with("schedfuzz") { harness in
                try await harness.stakeholder("Officer Diaz", .lawEnforcement, area: "brooklyn-05")
                let schemathesis = TestEnvironment.repositoryRoot.appendingPathComponent(".local/venv/bin/schemathesis")
                let run = try ChildProcess(
                    schemathesis,
                    arguments: [
                        "run", TestEnvironment.repositoryRoot.appendingPathComponent("docs/openapi/meeting-scheduler.yaml").path,
                        "--url", harness.service.baseURL, "--checks", "not_a_server_error", "--max-examples", "25",
                        "--seed", "20261122", "-H", "Authorization: Bearer \(SchedulerHarness.operatorToken)", "--no-color",
                    ],
                    environment: ["SCHEMATHESIS_HOOKS": "", "HOME": FileManager.default.temporaryDirectory.path])
                let status = try await run.waitForExit(timeout: .seconds(600))
                #expect(status == 0, "\(run.lines.suffix(40).joined(separator: "\n"))")
                #expect(run.lines.contains { $0.contains("generated") })
            }
        }
    }
}
