import Foundation
import Testing
import TestSupport

/// schemathesis generates requests from docs/openapi/alert-fanout.yaml against the running
/// fan-out: whatever it sends, no response may be a server error.
@Suite("Fan-out OpenAPI fuzzing")
struct SchemathesisFanoutTests {
    @Test("schemathesis over the fan-out OpenAPI file finds no 5xx")
    func noServerErrors() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutfuzz") + "."
            try await TopicFixture.withNamedTopics(WebhookDeliveryTests.topics(prefix)) {
                let service = try await WebhookDeliveryTests.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: false)
                let schemathesis = TestEnvironment.repositoryRoot.appendingPathComponent(".local/venv/bin/schemathesis")
                let run = try ChildProcess(
                    schemathesis,
                    arguments: [
                        "run", TestEnvironment.repositoryRoot.appendingPathComponent("docs/openapi/alert-fanout.yaml").path,
                        "--url", service.baseURL, "--checks", "not_a_server_error", "--max-examples", "25",
                        "--seed", "20261122", "-H", "Authorization: Bearer \(WebhookDeliveryTests.operatorToken)", "--no-color",
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
