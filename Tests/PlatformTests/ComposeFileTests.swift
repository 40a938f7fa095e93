import Foundation
import Testing
import TestSupport

@Suite("Deployment files")
struct ComposeFileTests {
    @Test("docker-compose.yml is valid for docker-compose, and refuses to start without an operator token")
    func composeConfig() async throws {
        let compose = try #require(
            ["/usr/bin/docker-compose", "/usr/local/bin/docker-compose"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "docker-compose is not installed: run `make setup`")
        let root = TestEnvironment.repositoryRoot.path
        let valid = try ChildProcess(
            URL(fileURLWithPath: compose), arguments: ["-f", root + "/docker-compose.yml", "config", "-q"],
            environment: ["COALITION_OPERATOR_TOKEN": "test-token"])
        #expect(try await valid.waitForExit() == 0, "\(valid.standardError)")

        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "COALITION_OPERATOR_TOKEN")
        let missing = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["-u", "COALITION_OPERATOR_TOKEN", compose, "-f", root + "/docker-compose.yml", "config", "-q"])
        #expect(try await missing.waitForExit() != 0)
        #expect(missing.standardError.contains("COALITION_OPERATOR_TOKEN"))
    }

    @Test("every topic of the contracts is documented in the AsyncAPI file")
    func asyncAPICoversTopics() throws {
        let document = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("docs/asyncapi.yaml"), encoding: .utf8)
        for topic in ["incidents.raw", "incidents.normalized", "incidents.rejected", "alerts.requested", "alerts.delivered",
                      "meetings.events", "feedback.responses", "metrics.incidents", "metrics.response-times", "metrics.alerts",
                      "metrics.engagement", "metrics.hotspots"] {
            #expect(document.contains(topic), "\(topic) missing from docs/asyncapi.yaml")
        }
    }
}
