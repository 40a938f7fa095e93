import Foundation

/// Element types whose Swift arrays can be bound as parameters.
///
/// Arrays are sent as text array literals (`{"a","b\"c",NULL}`), except `[UInt8]`, which is
/// bytea — that is why arrays go through this protocol rather than through
/// `Array: PostgresEncodable where Element: PostgresEncodable`.
public protocol PostgresArrayEncodable: Sendable {
    /// The PostgreSQL type of `[Self]`, e.g. `.textArray` for String.
    static var postgresArrayDataType: PostgresDataType { get }
    /// The text form (COPY, literals).
    static func encodePostgresArray(_ elements: [Self]) throws -> PostgresEncodedValue
    /// As a query parameter: binary where the element type has a binary form
    /// (`PostgresBinaryArray`), else the text form.
    static func encodePostgresArrayParameter(_ elements: [Self]) throws -> PostgresEncodedValue
    /// The same for arrays with NULL elements.
    static func encodePostgresOptionalArrayParameter(_ elements: [Self?]) throws -> PostgresEncodedValue
}

/// Element types whose Swift arrays can be decoded from a column.
public protocol PostgresArrayDecodable: Sendable {
    static func decodePostgresArray(_ text: String, type: PostgresDataType) throws -> [Self]
}

extension PostgresArrayEncodable where Self: PostgresEncodable {
    public static func encodePostgresArray(_ elements: [Self]) throws -> PostgresEncodedValue {
        .text(PostgresArrayLiteral.encode(try elements.map { try $0.encodePostgres() }))
    }
}

extension PostgresArrayEncodable where Self: PostgresEncodable {
    public static func encodePostgresOptionalArrayParameter(_ elements: [Self?]) throws -> PostgresEncodedValue {
        .text(PostgresArrayLiteral.encode(try elements.map { try $0?.encodePostgres() ?? .null }))
    }
}

extension PostgresArrayEncodable {
    public static func encodePostgresArrayParameter(_ elements: [Self]) throws -> PostgresEncodedValue {
        try encodePostgresArray(elements)
    }

    public static func encodePostgresOptionalArrayParameter(_ elements: [Self?]) throws -> PostgresEncodedValue {
        throw PostgresEncodingError("arrays of \(Self.self) with NULL elements cannot be bound")
    }
}

extension PostgresArrayDecodable where Self: PostgresDecodable {
    public static func decodePostgresArray(_ text: String, type: PostgresDataType) throws -> [Self] {
        let elementType = type.arrayElement
        return try PostgresArrayLiteral.parse(text).map { element in
            guard let element else { return try decodePostgresNull() }
            return try Self(postgresText: element, type: elementType)
        }
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayEncodable {
    public static var postgresDataType: PostgresDataType { Element.postgresArrayDataType }
    public func encodePostgres() throws -> PostgresEncodedValue { try Element.encodePostgresArray(self) }
    public func encodePostgresParameter() throws -> PostgresEncodedValue { try Element.encodePostgresArrayParameter(self) }
}

extension Array: PostgresDecodable where Element: PostgresArrayDecodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        self = try Element.decodePostgresArray(text, type: type)
    }
}

extension UInt8: PostgresArrayEncodable, PostgresArrayDecodable {
    /// `[UInt8]` is bytea.
    public static var postgresArrayDataType: PostgresDataType { .bytea }
    public static func encodePostgresArray(_ elements: [UInt8]) -> PostgresEncodedValue { .binary(elements) }
    public static func decodePostgresArray(_ text: String, type: PostgresDataType) throws -> [UInt8] {
        try PostgresBytea.decode(text)
    }
}

extension String: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .textArray }
}

extension Int: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .int8Array }
}

extension Int64: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .int8Array }
}

extension Int32: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .int4Array }
}

extension Int16: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .int2Array }
}

extension Double: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .float8Array }
}

extension Bool: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .boolArray }
}

extension UUID: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .uuidArray }
}

extension Date: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .timestamptzArray }
}

extension Data: PostgresArrayEncodable, PostgresArrayDecodable {
    public static var postgresArrayDataType: PostgresDataType { .byteaArray }
}

/// Arrays with NULL elements, e.g. `[String?]`.
extension Optional: PostgresArrayEncodable where Wrapped: PostgresArrayEncodable & PostgresEncodable {
    public static var postgresArrayDataType: PostgresDataType { Wrapped.postgresArrayDataType }
    public static func encodePostgresArrayParameter(_ elements: [Wrapped?]) throws -> PostgresEncodedValue {
        try Wrapped.encodePostgresOptionalArrayParameter(elements)
    }
}

extension Optional: PostgresArrayDecodable where Wrapped: PostgresArrayDecodable & PostgresDecodable {}

/// PostgreSQL's text form of one-dimensional arrays.
enum PostgresArrayLiteral {
    /// Every element is double-quoted, so no element text can be mistaken for NULL, a
    /// delimiter or a nested array; inside quotes only `"` and `\` need a backslash.
    static func encode(_ elements: [PostgresEncodedValue]) -> String {
        // Built as UTF-8 bytes: escaping scalar by scalar into a String was the hot spot of
        // batch writes (arrays of whole JSON documents).
        var literal: [UInt8] = []
        literal.reserveCapacity(2 + elements.count * 16)
        literal.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            switch element {
            case .null:
                literal.append(contentsOf: "NULL".utf8)
            case .text(let text):
                appendQuoted(text, to: &literal)
            case .binary(let bytes):
                appendQuoted(PostgresBytea.hex(bytes), to: &literal)
            }
        }
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
    }

    private static func appendQuoted(_ text: String, to literal: inout [UInt8]) {
        literal.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // No reserveCapacity per element: growing to the exact size every time reallocates
            // (and copies) the whole literal once per element; appending grows geometrically.
            for byte in bytes {
                // `"` and `\` are ASCII, so they never occur inside a multi-byte sequence.
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
        }
        literal.append(UInt8(ascii: "\""))
    }

    /// Parses `{a,"b c",NULL}` (optionally prefixed by dimensions such as `[0:2]=`).
    static func parse(_ text: String) throws -> [String?] {
        let bytes = Array(text.utf8)
        var index = 0
        if bytes.first == UInt8(ascii: "[") {
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { throw malformed }
            index = equals + 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw malformed }
        index += 1
        var elements: [String?] = []
        skipWhitespace(bytes, &index)
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            return try finished(elements, bytes, index + 1)
        }
        while index < bytes.count {
            skipWhitespace(bytes, &index)
            guard index < bytes.count else { throw malformed }
            var element: [UInt8] = []
            var quoted = false
            switch bytes[index] {
            case UInt8(ascii: "{"):
                throw PostgresDecodingError("multidimensional arrays are not supported")
            case UInt8(ascii: "\""):
                quoted = true
                index += 1
                while true {
                    guard index < bytes.count else { throw malformed }
                    let byte = bytes[index]
                    index += 1
                    if byte == UInt8(ascii: "\"") { break }
                    if byte == UInt8(ascii: "\\") {
                        guard index < bytes.count else { throw malformed }
                        element.append(bytes[index])
                        index += 1
                    } else {
                        element.append(byte)
                    }
                }
                skipWhitespace(bytes, &index)
            default:
                while index < bytes.count, bytes[index] != UInt8(ascii: ","), bytes[index] != UInt8(ascii: "}") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count { index += 1 }
                    element.append(bytes[index])
                    index += 1
                }
                while let last = element.last, isWhitespace(last) { element.removeLast() }
            }
            let value = String(decoding: element, as: UTF8.self)
            if !quoted, value.count == 4, value.uppercased() == "NULL" {
                elements.append(nil)
            } else {
                elements.append(value)
            }
            guard index < bytes.count else { throw malformed }
            if bytes[index] == UInt8(ascii: "}") { return try finished(elements, bytes, index + 1) }
            guard bytes[index] == UInt8(ascii: ",") else { throw malformed }
            index += 1
        }
        throw malformed
    }

    private static var malformed: PostgresDecodingError { PostgresDecodingError("not a one-dimensional array") }

    private static func finished(_ elements: [String?], _ bytes: [UInt8], _ index: Int) throws -> [String?] {
        var index = index
        skipWhitespace(bytes, &index)
        guard index == bytes.count else { throw malformed }
        return elements
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
    }
}
