import Foundation
import Testing
import TestSupport

/// Each executable as an operator runs it: real process, real broker, real database.
@Suite("Service start-up and shutdown")
struct ServiceLifecycleTests {
    static let executables = ["incident-ingestion", "alert-fanout", "meeting-scheduler", "metrics-aggregator"]

    @Test("each service starts, reports ready, and exits 0 on SIGTERM", arguments: executables)
    func readyThenGracefulExit(executable: String) async throws {
        try await withTemporaryDatabase { databaseURL in
            let service = try ChildProcess(
                try TestEnvironment.product(executable),
                environment: [
                    "COALITION_DATABASE_URL": databaseURL, "COALITION_HTTP_PORT": "0", "COALITION_HTTP_HOST": "127.0.0.1",
                    "COALITION_TOPIC_PREFIX": TestEnvironment.uniqueName("svc") + ".", "COALITION_LOG_LEVEL": "info",
                    // Far longer than the wait below: a part that ignores graceful shutdown (and is
                    // only cancelled when this runs out) fails the test instead of passing late.
                    "COALITION_SHUTDOWN_TIMEOUT": "180s",
                ])
            let port = try await eventually("\(executable) to listen", timeout: .seconds(60)) { () -> Int? in
                ServiceProcess.listeningPort(in: service.standardError)
            }
            let (status, body) = try await HTTPProbe.get("http://127.0.0.1:\(port)/readyz")
            #expect(status == 200, "\(body)")
            #expect(body.contains("\"database\":\"ok\""))
            #expect(body.contains("\"kafka\":\"ok\""))
            let (healthStatus, _) = try await HTTPProbe.get("http://127.0.0.1:\(port)/healthz")
            #expect(healthStatus == 200)
            let (metricsStatus, metrics) = try await HTTPProbe.get("http://127.0.0.1:\(port)/metrics")
            #expect(metricsStatus == 200)
            #expect(metrics.contains("# TYPE"))
            let (missingStatus, problem) = try await HTTPProbe.get("http://127.0.0.1:\(port)/no-such-route")
            #expect(missingStatus == 404)
            #expect(problem.contains("\"status\":404"))

            service.signal(SIGTERM)
            #expect(try await service.waitForExit(timeout: .seconds(60)) == 0, "\(service.standardError)")
            #expect(service.standardError.contains("shut down cleanly"))
        }
    }

    @Test("a bad COALITION_DATABASE_URL exits non-zero, naming the variable, once its start-up timeout passes")
    func badDatabaseURL() async throws {
        // A 5 s start-up timeout; the 60 s wait only keeps a hung process from hanging the run.
        let service = try ChildProcess(
            try TestEnvironment.product("incident-ingestion"),
            environment: [
                "COALITION_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "COALITION_HTTP_PORT": "0", "COALITION_STARTUP_TIMEOUT": "5s",
            ])
        let status = try await service.waitForExit(timeout: .seconds(60))
        #expect(status != 0)
        #expect(service.standardError.contains("COALITION_DATABASE_URL"))
    }

    @Test("a malformed setting exits 2 naming the variable")
    func malformedSetting() async throws {
        let service = try ChildProcess(
            try TestEnvironment.product("alert-fanout"),
            environment: ["COALITION_HTTP_PORT": "eighty", "COALITION_DATABASE_URL": try TestEnvironment.databaseURL()])
        #expect(try await service.waitForExit(timeout: .seconds(30)) == 2)
        #expect(service.standardError.contains("COALITION_HTTP_PORT"))
    }

    @Test("an unreachable broker exits non-zero within 30 s naming COALITION_KAFKA_BROKERS")
    func unreachableBroker() async throws {
        try await withTemporaryDatabase { databaseURL in
            let service = try ChildProcess(
                try TestEnvironment.product("metrics-aggregator"),
                environment: [
                    "COALITION_DATABASE_URL": databaseURL, "COALITION_KAFKA_BROKERS": "127.0.0.1:1",
                    "COALITION_HTTP_PORT": "0", "COALITION_STARTUP_TIMEOUT": "5s",
                ])
            #expect(try await service.waitForExit(timeout: .seconds(30)) != 0)
            #expect(service.standardError.contains("COALITION_KAFKA_BROKERS"))
        }
    }
}
