import Foundation
import Postgres
import Testing
import TestSupport
@testable import IncidentIngestion

/// schemathesis generates requests from docs/openapi/incident-ingestion.yaml against the real
/// service: whatever it sends, no response may be a server error;
/// nor may a NUL in any URL parameter (Tests/Judges/nul_probe.py).
@Suite("OpenAPI fuzzing")
struct SchemathesisTests {
    @Test("schemathesis, and a NUL in every URL parameter, find no 5xx over the ingestion OpenAPI file")
    func noServerErrors() async throws {
        try await withTemporaryDatabase { databaseURL in
            let service = try await ServiceProcess.start("incident-ingestion", environment: [
                "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": TestEnvironment.uniqueName("fuzz") + ".",
            ])
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            let key = try await SourceRegistry(postgres: postgres).add(id: "nyc-311", name: "NYC 311", timezone: "America/New_York")
            let fuzz = try await OpenAPIFuzzing.schemathesis(
                spec: "incident-ingestion.yaml", baseURL: service.baseURL, bearer: key, seed: 20261121, maxExamples: 25)
            #expect(fuzz.status == 0, "\(fuzz.tail)")
            #expect(fuzz.lines.contains { $0.contains("generated") })
            let probe = try await OpenAPIFuzzing.nulProbe(spec: "incident-ingestion.yaml", baseURL: service.baseURL, bearer: key)
            #expect(probe.status == 0, "\(probe.tail)")
            #expect(probe.lines.contains { $0.hasPrefix("probes ") })
            #expect(try await service.stop() == 0)
        }
    }
}
