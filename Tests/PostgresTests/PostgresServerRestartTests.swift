import Postgres
import Synchronization
import TestSupport
import Testing

/// Restarts a private server (never the shared one) under load.
@Suite struct PostgresServerRestartTests {
    final class Outcomes: Sendable {
        let successes = Atomic<Int>(0)
        let failures = Mutex<[any Error]>([])
        let stop = Atomic<Bool>(false)
    }

    @Test(.timeLimit(.minutes(2)))
    func poolAndListenerRecoverAfterServerRestart() async throws {
        try await PrivatePostgresCluster.withPrivateCluster { cluster in
            try await withClient(url: cluster.url, maxConnections: 3, connectTimeout: .seconds(5)) { client in
                try await client.execute("CREATE TABLE ticks (n int)")
                let reconnects = Atomic<Int>(0)
                let notifications = NotificationCollector(
                    try await client.listen(channel: "restart", onReconnect: { reconnects.add(1, ordering: .relaxed) }))
                defer { notifications.cancel() }
                try await client.notify(channel: "restart", payload: "before")
                try await waitUntil("the first notification") { notifications.payloads.contains("before") }

                let outcomes = Outcomes()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in 0..<4 {
                        group.addTask {
                            while !outcomes.stop.load(ordering: .relaxed) {
                                do {
                                    try await client.withTransaction { tx in
                                        try await tx.execute("INSERT INTO ticks VALUES (\(worker))")
                                        try await tx.query("SELECT pg_sleep(0.005)")
                                    }
                                    outcomes.successes.add(1, ordering: .relaxed)
                                } catch {
                                    outcomes.failures.withLock { $0.append(error) }
                                    // Back off a little instead of hammering a server that is down.
                                    try? await Task.sleep(for: .milliseconds(10))
                                }
                            }
                        }
                    }

                    try await waitUntil("queries before the restart") {
                        outcomes.successes.load(ordering: .relaxed) >= 20
                    }
                    try await cluster.restart()
                    let successesAfterRestart = outcomes.successes.load(ordering: .relaxed)
                    try await waitUntil("queries to succeed again") {
                        outcomes.successes.load(ordering: .relaxed) >= successesAfterRestart + 20
                    }
                    outcomes.stop.store(true, ordering: .relaxed)
                    try await group.waitForAll()
                }

                let failures = outcomes.failures.withLock { $0 }
                // The fast shutdown terminated in-flight statements: they must have failed
                // cleanly, as retriable PostgresErrors.
                #expect(!failures.isEmpty)
                for failure in failures {
                    let error = try #require(failure as? PostgresError, "unexpected error type: \(failure)")
                    #expect(error.isRetriable, "\(error)")
                }

                // A plain query works, and the listener came back by itself and listens again.
                #expect(try await client.query("SELECT count(*) FROM ticks")[0].decode(0, as: Int.self) > 0)
                var sent = 0
                try await waitUntil("a notification after the restart", interval: .milliseconds(50)) {
                    sent += 1
                    try await client.notify(channel: "restart", payload: "after-\(sent)")
                    return notifications.payloads.contains { $0.hasPrefix("after-") }
                }
                #expect(reconnects.load(ordering: .relaxed) >= 1)
            }
        }
    }
}
