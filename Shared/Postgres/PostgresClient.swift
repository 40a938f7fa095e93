import Logging
import Synchronization

/// A bounded pool of PostgreSQL connections.
///
///     let client = try PostgresClient(configuration: .init(connectionString: url), logger: logger)
///     let open = try await client.query("SELECT count(*) FROM incidents WHERE closed_at IS NULL")
///     try await client.withTransaction(isolationLevel: .serializable) { tx in … }
///
/// Connections open lazily, up to `maxConnections`; when all are busy, callers wait (without
/// blocking a thread) for one to come back. A connection that broke — server restart, network,
/// admin termination — is discarded when it comes back, the statement that hit the break fails
/// with a retriable `PostgresError`, and the next checkout opens a fresh connection.
///
/// `run()` returns after `shutdown()` (or when its task is cancelled) once every connection is
/// closed, which is what a service lifecycle wants.
public final class PostgresClient: Sendable {
    typealias Waiter = CheckedContinuation<Lease<PostgresConnection>, any Error>
    typealias Pool = StateMachine<PostgresConnection, Waiter, CheckedContinuation<Void, Never>, PQListener>

    public let configuration: Configuration
    private let parameters: PQConnectionParameters
    private let logger: Logger
    private let metrics = PostgresMetrics()
    private let pool: Mutex<Pool>

    private static let ids = Atomic<Int>(1)

    static func makeID() -> Int {
        ids.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Validates the configuration (the connection string is parsed here) but opens nothing.
    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.parameters = try configuration.makeParameters()
        var logger = logger
        logger[metadataKey: "db.system"] = "postgresql"
        self.logger = logger
        self.pool = Mutex(Pool(maxConnections: configuration.maxConnections))
    }

    // MARK: Lifecycle

    /// Returns once the client has shut down: no connection is leased or opening any more, and
    /// every connection has been handed to its queue to close. Cancelling the calling task
    /// shuts the client down.
    public func run() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                perform(pool.withLock { $0.waitForShutdown(continuation) })
            }
        } onCancel: {
            shutdown()
        }
    }

    /// Stops handing out connections: idle ones close now, waiting callers fail with
    /// `.poolClosed`, LISTEN streams finish, and leased connections close when returned.
    public func shutdown() {
        logger.debug("shutting down")
        perform(pool.withLock { $0.shutdown() })
    }

    // MARK: Scopes

    /// Leases a connection for the duration of `body`.
    ///
    /// Leaving `body` with a transaction still open discards the connection rather than
    /// handing a half-finished transaction to the next caller.
    @discardableResult
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        file: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await leaseConnection(file: file, line: line)
        do {
            let result = try await body(connection)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on a pooled connection; see
    /// `PostgresConnection.withTransaction` for the retry rules.
    @discardableResult
    public func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        isolationLevel: PostgresIsolationLevel? = nil,
        maxAttempts: Int = 3,
        file: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await leaseConnection(file: file, line: line)
        do {
            let result = try await connection.withTransaction(
                isolationLevel: isolationLevel, maxAttempts: maxAttempts, file: file, line: line, body)
            release(connection)
            return result
        } catch {
            release(connection)
            throw error
        }
    }

    // MARK: One-off statements

    @discardableResult
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRows {
        let connection = try await leaseConnection(file: file, line: line)
        defer { release(connection) }
        return try await connection.query(query, file: file, line: line)
    }

    @discardableResult
    public func execute(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> Int {
        try await self.query(query, file: file, line: line).affectedRows
    }

    public func notify(channel: String, payload: String = "", file: String = #fileID, line: Int = #line) async throws {
        try await query("SELECT pg_notify(\(channel), \(payload))", file: file, line: line)
    }

    // MARK: Pool

    private func leaseConnection(file: String, line: Int) async throws -> PostgresConnection {
        while true {
            let candidate: PostgresConnection
            switch pool.withLock({ $0.lease() }) {
            case .use(let connection):
                candidate = connection
            case .connect:
                return try await openLeasedConnection(file: file, line: line)
            case .fail(let code):
                throw PostgresError(code: code, message: "the client has been shut down", file: file, line: line)
            case .wait:
                switch try await waitForLease() {
                case .connection(let connection): candidate = connection
                case .connectSlot: return try await openLeasedConnection(file: file, line: line)
                }
            }
            if await candidate.isUsableAfterIdle() { return candidate }
            candidate.logger.debug("discarding a pooled connection the server has closed")
            release(candidate)
        }
    }

    private func waitForLease() async throws -> Lease<PostgresConnection> {
        let id = Self.makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                // Checking for cancellation under the lock closes the gap between this and onCancel.
                perform(pool.withLock { $0.enqueue(continuation, id: id, isCancelled: Task.isCancelled) })
            }
        } onCancel: {
            perform(pool.withLock { $0.cancelWaiter(id: id) })
        }
    }

    private func openLeasedConnection(file: String, line: Int) async throws -> PostgresConnection {
        let attempt = await Result(catching: {
            try await PostgresConnection.connect(
                parameters: parameters, timeout: configuration.connectTimeout, id: Self.makeID(), logger: logger,
                metrics: metrics, file: file, line: line)
        })
        guard case .success(let connection) = attempt else {
            perform(pool.withLock { $0.connectFailed() })
            return try attempt.get()
        }
        let outcome = pool.withLock { $0.connected(connection) }
        perform(outcome.actions)
        guard outcome.use else {
            throw PostgresError(code: .poolClosed, message: "the client has been shut down", file: file, line: line)
        }
        return connection
    }

    private func release(_ connection: PostgresConnection) {
        let condition = connection.pq.condition
        if condition == .inTransaction {
            connection.logger.warning("connection returned with an open transaction; discarding it")
        }
        perform(pool.withLock { $0.release(connection, reusable: condition == .idle) })
    }

    private func perform(_ actions: Pool.Actions) {
        for connection in actions.close { connection.closeInBackground() }
        for (waiter, lease) in actions.resume { waiter.resume(returning: lease) }
        for (waiter, code) in actions.fail {
            waiter.resume(throwing: PostgresError(code: code, message: "the client has been shut down"))
        }
        for waiter in actions.cancel { waiter.resume(throwing: CancellationError()) }
        for listener in actions.stopListeners { listener.stop() }
        for waiter in actions.finishShutdown { waiter.resume() }
        let counts = pool.withLock { (leased: $0.leased, idle: $0.idleCount) }
        metrics.leasedConnections.record(counts.leased)
        metrics.idleConnections.record(counts.idle)
    }
}

extension PostgresClient {
    /// Listens on `channel` over a dedicated connection (not one of the pool's).
    ///
    /// Returns once LISTEN is active, so notifications committed after this returns are
    /// delivered, in commit order. The stream keeps going across server restarts (it reconnects
    /// and listens again; `onReconnect` is called then, since notifications sent while
    /// disconnected are lost) and finishes when the client shuts down. Stop listening by
    /// ending the iteration (the stream's termination stops the listener thread).
    public func listen(
        channel: String,
        onReconnect: (@Sendable () -> Void)? = nil
    ) async throws -> AsyncThrowingStream<PostgresNotification, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: PostgresNotification.self)
        let id = Self.makeID()
        var listenerLogger = logger
        listenerLogger[metadataKey: "postgres.channel"] = "\(channel)"
        let listener = try PQListener(
            settings: .init(
                channel: channel, parameters: parameters, connectTimeout: configuration.connectTimeout,
                initialReconnectDelay: configuration.listenReconnectDelay,
                maximumReconnectDelay: configuration.listenMaximumReconnectDelay),
            logger: listenerLogger, output: continuation, onReconnect: onReconnect,
            onExit: { [weak self] in self?.pool.withLock { $0.removeListener(id: id) } })
        guard pool.withLock({ $0.addListener(listener, id: id) }) else {
            throw PostgresError(code: .poolClosed, message: "the client has been shut down")
        }
        continuation.onTermination = { _ in listener.stop() }
        try await listener.start()
        return stream
    }
}
