import Foundation

/// A Swift type that can be decoded from a column in PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value from its text representation.
    ///
    /// Errors must not quote `text`: they end up in logs, and the value may be sensitive.
    init(postgresText text: String, type: PostgresDataType) throws

    /// The value for SQL NULL. The default throws; `Optional` returns `nil`.
    static func decodePostgresNull() throws -> Self
}

extension PostgresDecodable {
    public static func decodePostgresNull() throws -> Self {
        throw PostgresDecodingError("unexpected NULL (decode as an Optional to accept NULL)")
    }
}

/// Thrown by decoders; the row adds the column and reports `PostgresError.Code.decoding`.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension String: PostgresDecodable {
    /// Any column decodes as String: its text representation.
    public init(postgresText text: String, type: PostgresDataType) { self = text }
}

extension FixedWidthInteger where Self: PostgresDecodable {
    fileprivate static func parse(_ text: String) throws -> Self {
        guard let value = Self(text) else {
            throw PostgresDecodingError("not an integer that fits in \(Self.self)")
        }
        return value
    }
}

extension Int: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws { self = try .parse(text) }
}

extension Int64: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws { self = try .parse(text) }
}

extension Int32: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws { self = try .parse(text) }
}

extension Int16: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws { self = try .parse(text) }
}

extension Double: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw PostgresDecodingError("not a floating-point number") }
            self = value
        }
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingError("not a boolean")
        }
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        guard let uuid = UUID(uuidString: text) else { throw PostgresDecodingError("not a UUID") }
        self = uuid
    }
}

extension Date: PostgresDecodable {
    /// Accepts timestamptz (any offset), timestamp (taken as UTC) and date (midnight UTC).
    public init(postgresText text: String, type: PostgresDataType) throws {
        guard let date = PostgresTimestamp.parse(text) else {
            throw PostgresDecodingError("not an ISO timestamp (is DateStyle ISO?)")
        }
        self = date
    }
}

extension Data: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = Data(try PostgresBytea.decode(text))
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = .some(try Wrapped(postgresText: text, type: type))
    }

    public static func decodePostgresNull() -> Wrapped? { nil }
}
