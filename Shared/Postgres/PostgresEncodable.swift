import Foundation

/// A value as it is sent to the server: NULL, text format or binary format.
public enum PostgresEncodedValue: Sendable, Hashable {
    case null
    case text(String)
    /// Binary format: bytea (the raw bytes) and array parameters (`PostgresBinaryArray`).
    case binary([UInt8])
}

/// A Swift value that can be bound to a query parameter.
public protocol PostgresEncodable: Sendable {
    /// The parameter type sent with the value; `.unspecified` lets the server infer it.
    static var postgresDataType: PostgresDataType { get }
    func encodePostgres() throws -> PostgresEncodedValue
    /// The value as a query parameter; the same as `encodePostgres()` except for arrays,
    /// which are bound in binary format.
    func encodePostgresParameter() throws -> PostgresEncodedValue
}

extension PostgresEncodable {
    public func encodePostgresParameter() throws -> PostgresEncodedValue { try encodePostgres() }
}

extension String: PostgresEncodable {
    // Unspecified rather than text, so a string can feed any column type with a text input
    // form (enums, inet, jsonb, numeric…) just as a quoted literal would.
    public static var postgresDataType: PostgresDataType { .unspecified }
    public func encodePostgres() -> PostgresEncodedValue { .text(self) }
}

extension Int: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int8 }
    public func encodePostgres() -> PostgresEncodedValue { .text(String(self)) }
}

extension Int64: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int8 }
    public func encodePostgres() -> PostgresEncodedValue { .text(String(self)) }
}

extension Int32: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int4 }
    public func encodePostgres() -> PostgresEncodedValue { .text(String(self)) }
}

extension Int16: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .int2 }
    public func encodePostgres() -> PostgresEncodedValue { .text(String(self)) }
}

extension Double: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .float8 }
    public func encodePostgres() -> PostgresEncodedValue {
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity") }
        return .text(description)  // shortest representation that round-trips
    }
}

extension Bool: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .bool }
    public func encodePostgres() -> PostgresEncodedValue { .text(self ? "t" : "f") }
}

extension UUID: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .uuid }
    public func encodePostgres() -> PostgresEncodedValue { .text(Self.lowercaseText(self)) }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `8-4-4-4-12` lower-case hex, written by hand: `uuidString` goes through `sprintf`, which
    /// was the top of the profile when binding arrays of thousands of ids.
    static func lowercaseText(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { buffer in
                var position = 0
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        buffer[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    buffer[position] = hexDigits[Int(byte >> 4)]
                    buffer[position + 1] = hexDigits[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }
}

extension Date: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .timestamptz }
    /// RFC 3339 in UTC with microseconds, the precision of timestamptz.
    public func encodePostgres() throws -> PostgresEncodedValue {
        guard let text = PostgresTimestamp.format(self) else {
            throw PostgresEncodingError("the date is outside the range PostgreSQL timestamps can hold")
        }
        return .text(text)
    }
}

extension Data: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { .bytea }
    public func encodePostgres() -> PostgresEncodedValue { .binary([UInt8](self)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }
    public func encodePostgres() throws -> PostgresEncodedValue {
        switch self {
        case .none: return .null
        case .some(let wrapped): return try wrapped.encodePostgres()
        }
    }

    public func encodePostgresParameter() throws -> PostgresEncodedValue {
        switch self {
        case .none: return .null
        case .some(let wrapped): return try wrapped.encodePostgresParameter()
        }
    }
}

/// Thrown by `encodePostgres()` implementations; reported as `PostgresError.Code.encoding`.
public struct PostgresEncodingError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
