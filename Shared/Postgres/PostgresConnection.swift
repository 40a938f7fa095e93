import Dispatch
import Logging
import Metrics
import Synchronization

/// One PostgreSQL session. Obtain one from `PostgresClient.withConnection` (pooled) or
/// `PostgresConnection.connect` (yours to close).
///
/// libpq blocks, so every call runs on this connection's own serial dispatch queue and the
/// awaiting task is resumed through a continuation: the Swift concurrency pool never blocks.
/// Cancelling the awaiting task asks the server to cancel the running statement.
///
/// A connection is a single session: use it from one task at a time (a transaction or a COPY
/// spans several calls that must not interleave with anyone else's).
public final class PostgresConnection: Sendable {
    /// Unique within the process; appears in log metadata as `postgres.connection.id`.
    public let id: Int
    let pq: PQConnection
    private let queue: DispatchQueue
    let logger: Logger
    private let metrics: PostgresMetrics
    private let operations = Atomic<UInt64>(0)

    private init(id: Int, pq: PQConnection, queue: DispatchQueue, logger: Logger, metrics: PostgresMetrics) {
        self.id = id
        self.pq = pq
        self.queue = queue
        self.logger = logger
        self.metrics = metrics
    }

    /// Opens a connection outside any pool. Close it with `close()`.
    public static func connect(
        configuration: PostgresClient.Configuration,
        logger: Logger,
        file: String = #fileID,
        line: Int = #line
    ) async throws -> PostgresConnection {
        try await connect(
            parameters: configuration.makeParameters(), timeout: configuration.connectTimeout,
            id: PostgresClient.makeID(), logger: logger, metrics: PostgresMetrics(), file: file, line: line)
    }

    static func connect(
        parameters: PQConnectionParameters,
        timeout: Duration,
        id: Int,
        logger: Logger,
        metrics: PostgresMetrics,
        file: String,
        line: Int
    ) async throws -> PostgresConnection {
        var logger = logger
        logger[metadataKey: "postgres.connection.id"] = "\(id)"
        let queue = DispatchQueue(label: "postgres.connection.\(id)")
        let cancellation = PostgresCancellationFlag()
        let connectionLogger = logger
        do {
            let pq = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<PQConnection, any Error>) in
                    queue.async {
                        continuation.resume(
                            with: Result {
                                try PQConnection.connect(
                                    parameters: parameters, timeout: timeout, logger: connectionLogger,
                                    isCancelled: { cancellation.isSet }, file: file, line: line)
                            })
                    }
                }
            } onCancel: {
                cancellation.set()
            }
            metrics.connectionsOpened.increment()
            logger.debug("connected")
            return PostgresConnection(id: id, pq: pq, queue: queue, logger: logger, metrics: metrics)
        } catch let error as PostgresError {
            metrics.connectionFailures.increment()
            logger.debug("connection failed", metadata: ["error.message": "\(error)"])
            throw error
        }
    }

    /// Runs `operation` on the connection's queue. When `cancellable`, cancelling the task asks
    /// the server to cancel the statement, and the resulting 57014 surfaces as CancellationError.
    func run<T: Sendable>(
        cancellable: Bool = true,
        _ operation: @escaping @Sendable (PQConnection) throws -> T
    ) async throws -> T {
        let pq = self.pq
        let queue = self.queue
        let token = operations.wrappingAdd(1, ordering: .relaxed).newValue
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                    queue.async {
                        continuation.resume(with: Result { try pq.perform(operation: token) { try operation(pq) } })
                    }
                }
            } onCancel: {
                // PQcancel opens a connection of its own: keep that off the cancelling thread.
                if cancellable { DispatchQueue.global().async { pq.sendCancelRequest(operation: token) } }
            }
        } catch let error as PostgresError where error.sqlState == "57014" && Task.isCancelled {
            throw CancellationError()
        }
    }

    // MARK: Statements

    /// Runs a statement and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRows {
        let sql = query.sql
        let parameters = try query.makeParameters(file: file, line: line)
        guard !sql.utf8.contains(0) else {
            throw PostgresError(
                code: .encoding, message: "the SQL text contains a NUL character", file: file, line: line)
        }
        return try await measured {
            try await run { pq in try pq.execute(sql, parameters: parameters, file: file, line: line) }
        }
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> Int {
        try await self.query(query, file: file, line: line).affectedRows
    }

    /// Runs one or more `;`-separated statements without parameters, through the simple query
    /// protocol (as psql does). For migrations and other trusted scripts only.
    public func executeScript(unsafeSQL sql: String, file: String = #fileID, line: Int = #line) async throws {
        guard !sql.utf8.contains(0) else {
            throw PostgresError(
                code: .encoding, message: "the SQL text contains a NUL character", file: file, line: line)
        }
        _ = try await measured {
            try await run { pq in try pq.executeScript(sql, file: file, line: line) }
        }
    }

    /// Sends a notification (delivered when the surrounding transaction, if any, commits).
    public func notify(channel: String, payload: String = "", file: String = #fileID, line: Int = #line) async throws {
        try await query("SELECT pg_notify(\(channel), \(payload))", file: file, line: line)
    }

    /// Closes the session. Further calls fail with `.connectionLost`.
    public func close() async {
        _ = try? await run(cancellable: false) { pq in pq.finish() }
    }

    /// Closes the session in the background (the pool's way to drop a connection).
    func closeInBackground() {
        let pq = self.pq
        queue.async { pq.finish() }
    }

    /// A best-effort check of a connection that sat idle; never throws.
    func isUsableAfterIdle() async -> Bool {
        (try? await run(cancellable: false) { pq in pq.isUsableAfterIdle() }) ?? false
    }

    /// Makes the pool close this connection when it is returned, ending the session (and with it
    /// any session state such as advisory locks or SET commands).
    public func discardAfterUse() {
        pq.markUnusable()
    }

    private func measured<T>(_ body: () async throws -> T) async throws -> T {
        let start = ContinuousClock.now
        defer {
            metrics.queries.increment()
            metrics.queryDuration.recordInterval(since: start)
        }
        do {
            return try await body()
        } catch let error as PostgresError {
            metrics.recordError(error)
            logger.debug("statement failed", metadata: ["error.message": "\(error)"])
            throw error
        }
    }
}

/// Set when the task waiting for a connection attempt is cancelled; read by the attempt.
final class PostgresCancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .acquiring) }

    func set() { flag.store(true, ordering: .releasing) }
}

extension Metrics.Timer {
    fileprivate func recordInterval(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = start.duration(to: .now).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
