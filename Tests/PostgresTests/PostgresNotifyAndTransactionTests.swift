import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

@Suite struct PostgresNotifyAndTransactionTests {
    @Test func listenReceivesPayloadsInOrder() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { client in
                let channel = "incident events"  // needs quoting as an identifier
                let notifications = NotificationCollector(try await client.listen(channel: channel))
                defer { notifications.cancel() }

                var expected: [String] = []
                for n in 0..<50 {
                    let payload = "event \(n) '\"; \\ ünï"
                    expected.append(payload)
                    try await client.notify(channel: channel, payload: payload)
                }
                // Notifications sent in one transaction arrive together, at commit, in order.
                try await client.withTransaction { tx in
                    for n in 50..<60 {
                        expected.append("event \(n)")
                        try await tx.notify(channel: channel, payload: "event \(n)")
                    }
                }
                try await client.notify(channel: "some other channel", payload: "ignored")
                try await waitUntil("all notifications") { notifications.payloads.count >= expected.count }
                #expect(notifications.payloads == expected)
            }
        }
    }

    @Test func listenerStopsWhenTheConsumerStops() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { client in
                let notifications = NotificationCollector(try await client.listen(channel: "short-lived"))
                try await client.notify(channel: "short-lived", payload: "one")
                try await waitUntil("the notification") { notifications.payloads == ["one"] }
                notifications.cancel()
                // The listener's session goes away: nobody listens on the channel any more.
                try await waitUntil("the listener to disconnect") {
                    try await client.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                    )[0].decode(0, as: Int.self) == 0
                }
            }
        }
    }

    @Test func serializationFailuresAreRetried() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url, maxConnections: 2) { client in
                try await client.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
                try await client.execute("INSERT INTO accounts VALUES (1, 0), (2, 0)")

                // Classic write skew: both read the total, then each updates a different row.
                // Under SERIALIZABLE one of them must fail with 40001 and be re-run.
                let barrier = Barrier(count: 2)
                let attempts = AttemptCounter()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in [1, 2] {
                        group.addTask {
                            try await client.withTransaction(isolationLevel: .serializable, maxAttempts: 10) { tx in
                                let attempt = attempts.next(for: id)
                                let total = try await tx.query("SELECT sum(balance)::bigint FROM accounts")[0]
                                    .decode(0, as: Int.self)
                                if attempt == 1 { await barrier.arriveAndWait() }
                                try await tx.execute("UPDATE accounts SET balance = \(total + 1) WHERE id = \(id)")
                            }
                        }
                    }
                    try await group.waitForAll()
                }

                // At least one of them hit a real 40001 and was re-run (under load a retry can
                // start before the other's commit and conflict again, so it gets ten attempts and
                // the growing backoff); both then committed, with the result of some serial order.
                let counts = attempts.counts.values.sorted()
                #expect(counts.count == 2 && counts.reduce(0, +) >= 3, "attempts: \(counts)")
                let balances = try await client.query("SELECT balance FROM accounts ORDER BY balance").map {
                    try $0.decode(0, as: Int.self)
                }
                #expect(balances == [1, 2])
            }
        }
    }

    @Test func transactionsCommitAndRollBack() async throws {
        struct Abort: Error {}
        try await withTemporaryDatabase { url in
            try await withClient(url: url, maxConnections: 1) { client in
                try await client.execute("CREATE TABLE items (name text PRIMARY KEY)")
                try await client.withTransaction { tx in try await tx.execute("INSERT INTO items VALUES ('kept')") }
                await #expect(throws: Abort.self) {
                    try await client.withTransaction { tx in
                        try await tx.execute("INSERT INTO items VALUES ('discarded')")
                        throw Abort()
                    }
                }
                // A statement error swallowed inside the transaction must not look like a commit.
                let rolledBack = await #expect(throws: PostgresError.self) {
                    try await client.withTransaction { tx in
                        try await tx.execute("INSERT INTO items VALUES ('also discarded')")
                        _ = try? await tx.execute("INSERT INTO items VALUES ('kept')")
                    }
                }
                #expect(rolledBack?.sqlState == "25P02")
                let names = try await client.query("SELECT name FROM items").map { try $0.decode(0, as: String.self) }
                #expect(names == ["kept"])

                // Leaving withConnection inside a transaction discards that session.
                let firstPID = try await client.withConnection { connection in
                    try await connection.execute("BEGIN")
                    return try await connection.query("SELECT pg_backend_pid()")[0].decode(0, as: Int.self)
                }
                let secondPID = try await client.query("SELECT pg_backend_pid()")[0].decode(0, as: Int.self)
                #expect(firstPID != secondPID)
                #expect(try await client.query("SELECT count(*) FROM items")[0].decode(0, as: Int.self) == 1)
            }
        }
    }

    @Test func errorsAreServerErrorsWithoutValues() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { client in
                try await client.execute("CREATE TABLE users (email text PRIMARY KEY)")
                try await client.execute("INSERT INTO users VALUES (\("secret@example.com"))")
                let duplicate = await #expect(throws: PostgresError.self) {
                    try await client.execute("INSERT INTO users VALUES (\("secret@example.com"))")
                }
                #expect(duplicate?.sqlState == "23505")
                #expect(duplicate?.code == .server)
                #expect(duplicate?.isRetriable == false)
                #expect(duplicate?.description.contains("secret") == false)
                #expect(duplicate?.detail?.contains("secret") == true)

                let syntax = await #expect(throws: PostgresError.self) {
                    try await client.query("SELECT \("hunter2")::int")
                }
                #expect(syntax?.sqlState == "22P02")
                #expect(syntax?.description.contains("hunter2") == false)
            }
            // Connecting with a password to a database that does not exist: the password stays out.
            let missing = try TestDatabase.connectionString(
                url, database: "no_such_database_\(UInt32.random(in: 0...UInt32.max))")
            var withPassword = missing + " password=hunter2"
            if var components = URLComponents(string: missing), components.scheme?.hasPrefix("postgres") == true {
                components.password = "hunter2"
                withPassword = try #require(components.string)
            }
            try await withClient(url: withPassword, maxConnections: 1) { client in
                let failure = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
                #expect(failure?.code == .connectionFailed)
                #expect(failure?.description.contains("hunter2") == false)
            }
        }
    }
}

final class AttemptCounter: Sendable {
    private let storage = Mutex<[Int: Int]>([:])

    func next(for id: Int) -> Int {
        storage.withLock { counts in
            counts[id, default: 0] += 1
            return counts[id]!
        }
    }

    var counts: [Int: Int] { storage.withLock { $0 } }
}
