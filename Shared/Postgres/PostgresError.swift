/// An error from the PostgreSQL layer.
///
/// `description` is safe to log: it never contains bound parameter values, connection strings
/// or passwords. The server's `detail` (which can quote row values, e.g. "Key (email)=(…)
/// already exists") is kept out of it and only available as a property.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A new connection could not be established (refused, authentication, server starting).
        public static let connectionFailed = Code("connectionFailed")
        /// An established connection broke (server restart, network, admin termination).
        public static let connectionLost = Code("connectionLost")
        /// A deadline passed (e.g. the connect timeout).
        public static let timeout = Code("timeout")
        /// The server rejected a statement; see `sqlState`.
        public static let server = Code("server")
        /// libpq or the server did something this client does not expect.
        public static let protocolViolation = Code("protocolViolation")
        /// A value could not be sent (e.g. text with a NUL byte, unencodable JSON).
        public static let encoding = Code("encoding")
        /// A column could not be decoded as the requested Swift type.
        public static let decoding = Code("decoding")
        /// The client has been shut down.
        public static let poolClosed = Code("poolClosed")
        /// Bad configuration, e.g. a malformed connection string.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A migration that was already applied has different SQL now.
        public static let migrationChanged = Code("migrationChanged")

        public var description: String { name }
    }

    public var code: Code
    /// Human-readable message (the server's primary message for server errors).
    public var message: String
    /// The five-character SQLSTATE, when the error comes from the server.
    public var sqlState: String?
    /// The server's non-localized severity (ERROR, FATAL, PANIC).
    public var severity: String?
    /// The server's DETAIL, which may contain row values: not part of `description`.
    public var detail: String?
    /// The server's HINT.
    public var hint: String?
    public var file: String
    public var line: Int

    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        severity: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.severity = severity
        self.detail = detail
        self.hint = hint
        self.file = file
        self.line = line
    }

    /// True when trying again (on a fresh connection, or the whole transaction) may succeed:
    /// lost or failed connections, timeouts, serialization failures, deadlocks, and the server
    /// shutting down or starting up.
    public var isRetriable: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .timeout: return true
        default: break
        }
        guard let sqlState else { return false }
        return isTransactionConflict || sqlState.hasPrefix("08")
            || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    /// A serialization failure (40001) or deadlock (40P01): the transaction can be re-run.
    public var isTransactionConflict: Bool {
        sqlState == "40001" || sqlState == "40P01"
    }

    public var description: String {
        var text = "PostgresError.\(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(Self.redacted(message, sqlState: sqlState)) (\(file):\(line))"
        return text
    }

    /// Class 22 (data exception) messages quote the offending input, e.g.
    /// `invalid input syntax for type integer: "…"`; that input is usually a bound value.
    static func redacted(_ message: String, sqlState: String?) -> String {
        guard let sqlState, sqlState.hasPrefix("22") else { return message }
        var result = ""
        var inQuotes = false
        for character in message {
            if character == "\"" {
                result.append(character)
                if !inQuotes { result += "…" }
                inQuotes.toggle()
            } else if !inQuotes {
                result.append(character)
            }
        }
        return result
    }

    /// The same error with `context` in front of the message (e.g. the migration's name).
    func prefixed(_ context: String) -> PostgresError {
        var copy = self
        copy.message = "\(context): \(message)"
        return copy
    }
}
