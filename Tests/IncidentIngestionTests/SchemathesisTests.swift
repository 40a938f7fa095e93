import Foundation
import Postgres
import Testing
import TestSupport
@testable import IncidentIngestion

/// schemathesis generates requests from docs/openapi/incident-ingestion.yaml against the real
/// service: whatever it sends, no response may be a server error.
@Suite("OpenAPI fuzzing")
struct SchemathesisTests {
    @Test("schemathesis over the ingestion OpenAPI file finds no 5xx")
    func noServerErrors() async throws {
        try await withTemporaryDatabase { databaseURL in
            let service = try await ServiceProcess.start("incident-ingestion", environment: [
                "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": TestEnvironment.uniqueName("fuzz") + ".",
            ])
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            let key = try await SourceRegistry(postgres: postgres).add(id: "nyc-311", name: "NYC 311", timezone: "America/New_York")
            let schemathesis = TestEnvironment.repositoryRoot.appendingPathComponent(".local/venv/bin/schemathesis")
            let run = try ChildProcess(
                schemathesis,
                arguments: [
                    "run", TestEnvironment.repositoryRoot.appendingPathComponent("docs/openapi/incident-ingestion.yaml").path,
                    "--url", service.baseURL, "--checks", "not_a_server_error", "--max-examples", "25",
                    "--seed", "20261121", "-H", "Authorization: Bearer \(key)", "--no-color",
                ],
                environment: ["SCHEMATHESIS_HOOKS": "", "HOME": FileManager.default.temporaryDirectory.path])
            let status = try await run.waitForExit(timeout: .seconds(600))
            #expect(status == 0, "\(run.lines.suffix(40).joined(separator: "\n"))")
            #expect(run.lines.contains { $0.contains("generated") })
            #expect(try await service.stop() == 0)
        }
    }
}
