import Logging
import Postgres
import Synchronization
import TestSupport

/// A client on `url` whose connections the test closes when it is done.
func withClient<Result>(
    isolation: isolated (any Actor)? = #isolation,
    url: String,
    maxConnections: Int = 4,
    connectTimeout: Duration = .seconds(10),
    _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    var configuration = PostgresClient.Configuration(
        connectionString: url, maxConnections: maxConnections, connectTimeout: connectTimeout)
    configuration.listenReconnectDelay = .milliseconds(50)
    configuration.listenMaximumReconnectDelay = .milliseconds(500)
    let client = try PostgresClient(configuration: configuration, logger: TestDatabase.logger)
    defer { client.shutdown() }
    return try await body(client)
}

struct PostgresTestTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` until it holds or `timeout` passes (no fixed sleeps to synchronise).
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            throw PostgresTestTimeout(description: "timed out waiting for \(what)")
        }
        try await Task.sleep(for: interval)
    }
}

/// Collects what a LISTEN stream delivers, in a background task, for polling assertions.
final class NotificationCollector: Sendable {
    private final class Storage: Sendable {
        let received = Mutex<[PostgresNotification]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ stream: AsyncThrowingStream<PostgresNotification, any Error>) {
        let storage = self.storage
        task = Task {
            do {
                for try await notification in stream { storage.received.withLock { $0.append(notification) } }
            } catch {}
        }
    }

    var payloads: [String] { storage.received.withLock { $0.map(\.payload) } }

    /// Ends the iteration, which terminates the stream and stops the listener.
    func cancel() { task.cancel() }
}

/// Lets `count` tasks wait for each other (used to interleave two transactions on purpose).
actor Barrier {
    private var remaining: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { remaining = count }

    func arriveAndWait() async {
        remaining -= 1
        if remaining == 0 {
            for continuation in waiting { continuation.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}
