import Postgres
import TestSupport
import Testing

@Suite struct PostgresPoolTests {
    @Test func poolWaitsWhenExhaustedAndCancelsQueries() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url, maxConnections: 2) { client in
                // Eight tasks share two connections: the rest wait for a free one.
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for n in 0..<8 {
                        group.addTask {
                            try await client.query("SELECT \(n) FROM pg_sleep(0.05)")[0].decode(0, as: Int.self)
                        }
                    }
                    var seen: [Int] = []
                    for try await n in group { seen.append(n) }
                    #expect(seen.sorted() == Array(0..<8))
                }
                let backends = try await client.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
                )[0].decode(0, as: Int.self)
                #expect(backends <= 2)

                // Cancelling a task cancels its statement on the server.
                let started = ContinuousClock.now
                let sleeper = Task { try await client.query("SELECT pg_sleep(30)") }
                try await waitUntil("the sleep to start") {
                    try await client.query(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)' AND state = 'active'
                        """
                    )[0].decode(0, as: Int.self) == 1
                }
                sleeper.cancel()
                await #expect(throws: CancellationError.self) { try await sleeper.value }
                #expect(started.duration(to: .now) < .seconds(20))
                #expect(try await client.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
            }
        }
    }

    @Test func terminatedSessionsAreReplaced() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url, maxConnections: 1) { client in
                try await withClient(url: url, maxConnections: 1) { admin in
                    // An idle pooled session killed by an administrator is noticed at checkout.
                    let idlePID = try await client.query("SELECT pg_backend_pid()")[0].decode(0, as: Int.self)
                    try await admin.query("SELECT pg_terminate_backend(\(Int32(idlePID)))")
                    var replacementPID = idlePID
                    try await waitUntil("a fresh session") {
                        do {
                            replacementPID = try await client.query("SELECT pg_backend_pid()")[0].decode(
                                0, as: Int.self)
                        } catch let error as PostgresError {
                            #expect(error.isRetriable, "\(error)")
                        }
                        return replacementPID != idlePID
                    }

                    // A session killed while running a statement fails that statement, retriably.
                    let running = Task { try await client.query("SELECT pg_sleep(30)") }
                    var busyPID = 0
                    try await waitUntil("the statement to start") {
                        let rows = try await admin.query(
                            """
                            SELECT pid FROM pg_stat_activity
                            WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)' AND state = 'active'
                            """)
                        busyPID = try rows.first?.decode(0, as: Int.self) ?? 0
                        return busyPID != 0
                    }
                    try await admin.query("SELECT pg_terminate_backend(\(Int32(busyPID)))")
                    let error = await #expect(throws: PostgresError.self) { try await running.value }
                    #expect(error?.code == .connectionLost)
                    #expect(error?.isRetriable == true)
                    #expect(try await client.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
                }
            }
        }
    }
}
