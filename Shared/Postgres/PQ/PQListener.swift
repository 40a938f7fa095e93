import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs `LISTEN channel` on a connection of its own, on a thread of its own.
///
/// The thread sleeps in `poll()` on the connection's socket and on a wake-up pipe, so it costs
/// nothing while idle and stops as soon as `stop()` writes to the pipe. When the connection
/// breaks (server restart, network) it reconnects with backoff and listens again; notifications
/// sent while it was disconnected are lost, which `onReconnect` lets the consumer make up for.
final class PQListener: Sendable {
    struct Settings: Sendable {
        var channel: String
        var parameters: PQConnectionParameters
        var connectTimeout: Duration
        var initialReconnectDelay: Duration
        var maximumReconnectDelay: Duration
    }

    private let settings: Settings
    private let logger: Logger
    private let output: AsyncThrowingStream<PostgresNotification, any Error>.Continuation
    private let onReconnect: (@Sendable () -> Void)?
    private let onExit: @Sendable () -> Void
    private let isStopped = Atomic<Bool>(false)
    /// Both ends of the wake-up pipe; -1 once closed. The lock keeps `stop()` from writing to a
    /// descriptor number the thread has already closed (and the process may have reused).
    private let wakeUpPipe: Mutex<(reader: Int32, writer: Int32)>

    init(
        settings: Settings,
        logger: Logger,
        output: AsyncThrowingStream<PostgresNotification, any Error>.Continuation,
        onReconnect: (@Sendable () -> Void)?,
        onExit: @escaping @Sendable () -> Void
    ) throws {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else {
            throw PostgresError(code: .connectionFailed, message: "could not create a pipe for the listener")
        }
        // Child processes (e.g. anything the service spawns) must not inherit the pipe.
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        self.settings = settings
        self.logger = logger
        self.output = output
        self.onReconnect = onReconnect
        self.onExit = onExit
        self.wakeUpPipe = Mutex((reader: descriptors[0], writer: descriptors[1]))
    }

    deinit {
        closeWakeUpPipe()
    }

    /// Starts the thread and returns once the first LISTEN is in place, so that anything
    /// notified afterwards is delivered. Throws if that first connection fails.
    func start() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
                let thread = Thread { [self] in run(ready: ready) }
                thread.name = "postgres-listen"
                thread.start()
            }
        } onCancel: {
            stop()
        }
    }

    /// Stops the thread; the stream finishes. Safe to call from any thread, more than once.
    func stop() {
        guard !isStopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wakeUpPipe.withLock { pipe in
            guard pipe.writer >= 0 else { return }
            var byte: UInt8 = 1
            _ = write(pipe.writer, &byte, 1)
        }
    }

    private var stopped: Bool { isStopped.load(ordering: .acquiring) }

    private func run(ready: CheckedContinuation<Void, any Error>) {
        defer {
            closeWakeUpPipe()
            onExit()
        }
        let wakeUp = wakeUpPipe.withLock { $0.reader }
        var connection: PQConnection?
        do {
            connection = try connectAndListen()
        } catch {
            ready.resume(throwing: error)
            output.finish()
            return
        }
        ready.resume()

        var failedAttempts = 0
        while !stopped {
            guard let current = connection else {
                do {
                    connection = try connectAndListen()
                    failedAttempts = 0
                    logger.info("LISTEN re-established")
                    onReconnect?()
                } catch {
                    failedAttempts += 1
                    logger.debug("LISTEN reconnect failed", metadata: ["error.message": "\(error)"])
                    _ = PQSocket.waitForInput(socket: -1, wakeUp: wakeUp, timeout: reconnectDelay(failedAttempts))
                }
                continue
            }
            switch PQSocket.waitForInput(socket: current.socket, wakeUp: wakeUp, timeout: nil) {
            case .wakeUp, .timedOut:
                continue
            case .socket:
                let alive = current.consumeInput()
                deliver(current.takeNotifications())
                if !alive {
                    logger.warning("LISTEN connection lost; reconnecting")
                    current.finish()
                    connection = nil
                }
            }
        }
        connection?.finish()
        output.finish()
    }

    private func connectAndListen() throws -> PQConnection {
        let connection = try PQConnection.connect(
            parameters: settings.parameters, timeout: settings.connectTimeout, logger: logger,
            isCancelled: { stopped }, file: #fileID, line: #line)
        do {
            try connection.executeScript(
                "LISTEN \(PostgresQuery.quoteIdentifier(settings.channel))", file: #fileID, line: #line)
        } catch {
            connection.finish()
            throw error
        }
        deliver(connection.takeNotifications())
        return connection
    }

    private func deliver(_ notifications: [PostgresNotification]) {
        for notification in notifications { output.yield(notification) }
    }

    private func reconnectDelay(_ failedAttempts: Int) -> Duration {
        var delay = settings.initialReconnectDelay
        for _ in 1..<max(1, min(failedAttempts, 16)) { delay *= 2 }
        return min(delay, settings.maximumReconnectDelay)
    }

    private func closeWakeUpPipe() {
        wakeUpPipe.withLock { pipe in
            if pipe.reader >= 0 { close(pipe.reader) }
            if pipe.writer >= 0 { close(pipe.writer) }
            pipe = (reader: -1, writer: -1)
        }
    }
}
