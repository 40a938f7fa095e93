import CLibPQ
import Logging
import Synchronization

/// Owns one `PGconn` and every libpq call made on it.
///
/// All methods block the calling thread; callers run them on the connection's serial queue
/// (`PostgresConnection`) or on a listener's dedicated thread (`PQListener`), never on the Swift
/// concurrency pool. Only `condition` and `sendCancelRequest()` may be used from other threads.
final class PQConnection: @unchecked Sendable {
    /// What the pool needs to know when the connection comes back, published after every call.
    enum Condition: UInt8 {
        case idle
        case inTransaction
        case unusable
    }

    private let connection: PQPointer
    private let cancelHandle: PQPointer?
    private let notices: Unmanaged<PQNoticeSink>
    private var isFinished = false
    private let conditionStorage = Atomic<UInt8>(Condition.idle.rawValue)
    /// The token of the operation running on the connection's queue, 0 when idle.
    private let runningOperation = Atomic<UInt64>(0)

    private init(raw: OpaquePointer, logger: Logger) {
        connection = PQPointer(raw: raw)
        cancelHandle = PQgetCancel(raw).map { PQPointer(raw: $0) }
        notices = Unmanaged.passRetained(PQNoticeSink(logger: logger))
        PQsetNoticeReceiver(raw, pqNoticeReceiver, notices.toOpaque())
    }

    deinit {
        if !isFinished { PQfinish(connection.raw) }
        if let cancelHandle { PQfreeCancel(cancelHandle.raw) }
        notices.release()
    }

    // MARK: Connecting

    /// Opens a connection, driving `PQconnectPoll` ourselves so that the deadline covers DNS,
    /// TCP, TLS and authentication alike, and so that a cancelled attempt stops within 100 ms.
    static func connect(
        parameters: PQConnectionParameters,
        timeout: Duration,
        logger: Logger,
        isCancelled: () -> Bool,
        file: String,
        line: Int
    ) throws -> PQConnection {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        guard let raw = parameters.withCArrays({ PQconnectStartParams($0, $1, 0) }) else {
            throw PostgresError(
                code: .connectionFailed, message: "libpq could not allocate a connection", file: file, line: line)
        }
        var succeeded = false
        defer { if !succeeded { PQfinish(raw) } }

        func failure() -> PostgresError {
            PostgresError(
                code: .connectionFailed, message: Self.errorMessage(raw, fallback: "could not connect"),
                file: file, line: line)
        }

        guard PQstatus(raw) != CONNECTION_BAD else { throw failure() }
        // Per the libpq documentation, start as if PQconnectPoll had asked to write.
        var status = PGRES_POLLING_WRITING
        while status != PGRES_POLLING_OK {
            let events: Int16
            switch status {
            case PGRES_POLLING_FAILED: throw failure()
            case PGRES_POLLING_READING: events = PQSocket.readable
            default: events = PQSocket.writable
            }
            switch PQSocket.wait(socket: PQsocket(raw), for: events, deadline: deadline, isCancelled: isCancelled) {
            case .ready: break
            case .cancelled: throw CancellationError()
            case .timedOut:
                throw PostgresError(
                    code: .timeout, message: "connecting took longer than the connect timeout (\(timeout))",
                    file: file, line: line)
            }
            status = PQconnectPoll(raw)
        }
        succeeded = true
        return PQConnection(raw: raw, logger: logger)
    }

    // MARK: State

    var condition: Condition {
        Condition(rawValue: conditionStorage.load(ordering: .acquiring)) ?? .unusable
    }

    /// Makes the pool close this connection instead of reusing it. Sticky.
    func markUnusable() {
        conditionStorage.store(Condition.unusable.rawValue, ordering: .releasing)
    }

    private func publishCondition() {
        let next: Condition
        if isFinished || PQstatus(connection.raw) != CONNECTION_OK {
            next = .unusable
        } else {
            switch PQtransactionStatus(connection.raw) {
            case PQTRANS_IDLE: next = .idle
            case PQTRANS_INTRANS, PQTRANS_INERROR: next = .inTransaction
            default: next = .unusable
            }
        }
        var current = conditionStorage.load(ordering: .acquiring)
        while current != Condition.unusable.rawValue {
            let (exchanged, original) = conditionStorage.compareExchange(
                expected: current, desired: next.rawValue, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
    }

    /// Checks a connection that sat idle in the pool: a server restart or an idle-session
    /// timeout shows up as unsolicited input (an error message, then EOF) on its socket.
    func isUsableAfterIdle() -> Bool {
        guard !isFinished, PQstatus(connection.raw) == CONNECTION_OK,
            PQtransactionStatus(connection.raw) == PQTRANS_IDLE
        else {
            markUnusable()
            return false
        }
        let socket = PQsocket(connection.raw)
        guard socket >= 0 else {
            markUnusable()
            return false
        }
        guard PQSocket.hasInput(socket) else { return true }
        let consumed = PQconsumeInput(connection.raw) == 1
        _ = PQisBusy(connection.raw)  // parses what arrived
        _ = takeNotifications()  // pooled connections do not listen; drop stray ones
        if !consumed || PQstatus(connection.raw) != CONNECTION_OK || PQSocket.peerHasClosed(socket) {
            markUnusable()
            return false
        }
        return true
    }

    func finish() {
        guard !isFinished else { return }
        isFinished = true
        markUnusable()
        PQfinish(connection.raw)
    }

    /// Runs `body` as operation `token`, so that a cancel request meant for it cannot hit a
    /// later operation (e.g. someone else's, after the connection went back to the pool).
    func perform<T>(operation token: UInt64, _ body: () throws -> T) rethrows -> T {
        runningOperation.store(token, ordering: .releasing)
        defer { runningOperation.store(0, ordering: .releasing) }
        return try body()
    }

    /// Asks the server to cancel operation `token`'s statement, if it is still running.
    ///
    /// Opens a short-lived second connection to the server, so callers run it off the
    /// concurrency pool. `PGcancel` is thread-safe; the connection's queue may be busy.
    func sendCancelRequest(operation token: UInt64) {
        guard runningOperation.load(ordering: .acquiring) == token, let cancelHandle else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle.raw, &buffer, Int32(buffer.count))
    }

    // MARK: Statements

    /// Runs one statement with bound parameters (`PQexecParams`, text results).
    func execute(_ sql: String, parameters: [PQParameter], file: String, line: Int) throws -> PostgresRows {
        let raw = try openConnection(file: file, line: line)
        let result = PQParameter.withCArrays(parameters) { count, types, values, lengths, formats in
            PQexecParams(raw, sql, count, types, values, lengths, formats, 0)
        }
        return try consume(result, file: file, line: line)
    }

    /// Runs a script of one or more statements without parameters (`PQexec`, simple protocol).
    @discardableResult
    func executeScript(_ sql: String, file: String, line: Int) throws -> PostgresRows {
        let raw = try openConnection(file: file, line: line)
        let result = PQexec(raw, sql)
        return try consume(result, file: file, line: line)
    }

    private func openConnection(file: String, line: Int) throws -> OpaquePointer {
        guard !isFinished else {
            throw PostgresError(code: .connectionLost, message: "the connection is closed", file: file, line: line)
        }
        guard PQstatus(connection.raw) == CONNECTION_OK else {
            markUnusable()
            throw PostgresError(
                code: .connectionLost,
                message: Self.errorMessage(connection.raw, fallback: "the connection is broken"),
                file: file, line: line)
        }
        return connection.raw
    }

    private func consume(_ result: OpaquePointer?, file: String, line: Int) throws -> PostgresRows {
        defer { publishCondition() }
        guard let result else { throw connectionError(file: file, line: line) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PQResultReader.rows(from: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy(PQresultStatus(result))
            throw PostgresError(
                code: .protocolViolation,
                message: "COPY statements must go through copyIn, not query or execute", file: file, line: line)
        default:
            throw error(from: result, file: file, line: line)
        }
    }

    /// Leaves a COPY that `query`/`execute` started by mistake, so the connection stays usable.
    private func abandonCopy(_ status: ExecStatusType) {
        let raw = connection.raw
        switch status {
        case PGRES_COPY_IN:
            _ = PQputCopyEnd(raw, "COPY is not supported through query/execute")
        case PGRES_COPY_OUT:
            var buffer: UnsafeMutablePointer<CChar>? = nil
            while PQgetCopyData(raw, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
        default:
            markUnusable()
            return
        }
        drainResults()
    }

    private func drainResults() {
        while let result = PQgetResult(connection.raw) {
            PQclear(result)
            if PQstatus(connection.raw) == CONNECTION_BAD { break }
        }
    }

    // MARK: COPY FROM STDIN

    /// Sends a `COPY … FROM STDIN` statement and expects the server to enter COPY IN mode.
    func beginCopyIn(_ sql: String, file: String, line: Int) throws {
        let raw = try openConnection(file: file, line: line)
        let result = PQexec(raw, sql)
        guard let result else {
            publishCondition()
            throw connectionError(file: file, line: line)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        if status == PGRES_COPY_IN { return }
        publishCondition()
        if status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || status == PGRES_BAD_RESPONSE {
            throw error(from: result, file: file, line: line)
        }
        abandonCopy(status)
        throw PostgresError(
            code: .protocolViolation, message: "the statement did not start COPY FROM STDIN", file: file, line: line)
    }

    /// Sends one chunk of COPY data (whole lines, or any split of them).
    func putCopyData(_ bytes: [UInt8], file: String, line: Int) throws {
        guard !bytes.isEmpty else { return }
        let sent = bytes.withUnsafeBytes { buffer in
            PQputCopyData(
                connection.raw, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count))
        }
        guard sent == 1 else {
            // The server may already have rejected the data; its error says more than libpq's.
            _ = try finishCopy(failure: "client could not send COPY data", file: file, line: line)
            throw connectionError(file: file, line: line)
        }
    }

    /// Ends COPY IN (or aborts it with `failure`) and returns the number of rows copied.
    func finishCopy(failure: String?, file: String, line: Int) throws -> Int {
        let raw = connection.raw
        defer {
            publishCondition()
        }
        _ = PQputCopyEnd(raw, failure)
        var firstError: PostgresError?
        var copied = 0
        while let result = PQgetResult(raw) {
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK:
                copied = PQResultReader.affectedRows(of: result)
            case PGRES_COPY_IN:
                _ = PQputCopyEnd(raw, failure ?? "COPY ended by the client")
            default:
                if firstError == nil { firstError = error(from: result, file: file, line: line) }
            }
            PQclear(result)
            if PQstatus(raw) == CONNECTION_BAD { break }
        }
        if let firstError { throw firstError }
        if PQstatus(raw) == CONNECTION_BAD { throw connectionError(file: file, line: line) }
        return copied
    }

    // MARK: LISTEN

    var socket: Int32 { isFinished ? -1 : PQsocket(connection.raw) }

    /// Reads whatever the server sent. False once the connection is broken.
    func consumeInput() -> Bool {
        guard !isFinished else { return false }
        let consumed = PQconsumeInput(connection.raw) == 1
        if !consumed || PQstatus(connection.raw) != CONNECTION_OK {
            markUnusable()
            return false
        }
        return true
    }

    func takeNotifications() -> [PostgresNotification] {
        guard !isFinished else { return [] }
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(connection.raw) {
            notifications.append(
                PostgresNotification(
                    channel: String(cString: notify.pointee.relname),
                    payload: String(cString: notify.pointee.extra),
                    backendPID: Int(notify.pointee.be_pid)))
            PQfreemem(notify)
        }
        return notifications
    }

    // MARK: Errors

    private func connectionError(file: String, line: Int) -> PostgresError {
        if PQstatus(connection.raw) == CONNECTION_BAD {
            markUnusable()
            return PostgresError(
                code: .connectionLost,
                message: Self.errorMessage(connection.raw, fallback: "the server closed the connection"),
                file: file, line: line)
        }
        return PostgresError(
            code: .protocolViolation,
            message: Self.errorMessage(connection.raw, fallback: "libpq returned no result"),
            file: file, line: line)
    }

    private func error(from result: OpaquePointer, file: String, line: Int) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        // FATAL and PANIC end the session even if libpq has not noticed the EOF yet.
        let severity = field(UInt8(ascii: "V"))
        let lost = PQstatus(connection.raw) == CONNECTION_BAD || severity == "FATAL" || severity == "PANIC"
        if lost { markUnusable() }
        let message =
            field(UInt8(ascii: "M"))
            ?? PQresultErrorMessage(result).map { String(cString: $0).trimmingTrailingWhitespace() }
        return PostgresError(
            code: lost ? .connectionLost : .server,
            message: message?.isEmpty == false ? message! : "unknown server error",
            sqlState: field(UInt8(ascii: "C")),
            severity: severity,
            detail: field(UInt8(ascii: "D")),
            hint: field(UInt8(ascii: "H")),
            file: file, line: line)
    }

    private static func errorMessage(_ raw: OpaquePointer, fallback: String) -> String {
        guard let message = PQerrorMessage(raw) else { return fallback }
        // libpq's messages span lines ("…unexpectedly\n\tThis probably means…"): one line logs better.
        let text = String(cString: message).split(whereSeparator: \.isNewline)
            .map { $0.drop(while: \.isWhitespace) }.filter { !$0.isEmpty }.joined(separator: " ")
            .trimmingTrailingWhitespace()
        return text.isEmpty ? fallback : text
    }
}

/// Forwards server notices (e.g. "relation already exists, skipping") to the logger instead
/// of libpq's default of printing them to stderr.
final class PQNoticeSink: Sendable {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }
}

private func pqNoticeReceiver(_ context: UnsafeMutableRawPointer?, _ result: OpaquePointer?) {
    guard let context, let result else { return }
    let sink = Unmanaged<PQNoticeSink>.fromUnretainedValue(context)
    func field(_ code: UInt8) -> String? {
        PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
    }
    let severity = field(UInt8(ascii: "V")) ?? "NOTICE"
    let level: Logger.Level = severity == "WARNING" ? .warning : .debug
    sink.logger.log(
        level: level, "\(field(UInt8(ascii: "M")) ?? "")",
        metadata: ["postgres.severity": "\(severity)", "postgres.sqlstate": "\(field(UInt8(ascii: "C")) ?? "")"])
}

extension Unmanaged {
    fileprivate static func fromUnretainedValue(_ pointer: UnsafeMutableRawPointer) -> Instance {
        fromOpaque(pointer).takeUnretainedValue()
    }
}
