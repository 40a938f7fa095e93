import Foundation

/// Arrays bound as query parameters travel in PostgreSQL's binary array format: no text to
/// quote and escape on our side, none to parse on the server's. Batch statements bind arrays
/// of tens of thousands of elements (`unnest($1::uuid[], …)`), and their text form was most of
/// the time both sides spent on them. COPY and `encodePostgres()` keep the text form.
///
/// Layout (network byte order): dimensions (1, or 0 when empty), has-nulls flag, element type
/// OID, then length and lower bound (1) of the dimension, then per element its byte count
/// (−1 for NULL) and bytes.
enum PostgresBinaryArray {
    static func encode<Element>(
        _ elements: some Collection<Element?>, elementType: PostgresDataType, _ write: (Element, inout [UInt8]) throws -> Void
    ) throws -> PostgresEncodedValue {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20 + elements.count * 12)
        let hasNulls = elements.contains { $0 == nil }
        append(Int32(elements.isEmpty ? 0 : 1), to: &bytes)
        append(Int32(hasNulls ? 1 : 0), to: &bytes)
        append(Int32(bitPattern: elementType.oid), to: &bytes)
        if !elements.isEmpty {
            append(Int32(elements.count), to: &bytes)
            append(Int32(1), to: &bytes)
        }
        for element in elements {
            guard let element else {
                append(Int32(-1), to: &bytes)
                continue
            }
            let lengthAt = bytes.count
            append(Int32(0), to: &bytes)
            try write(element, &bytes)
            let length = Int32(bytes.count - lengthAt - 4)
            withUnsafeBytes(of: length.bigEndian) { for (offset, byte) in $0.enumerated() { bytes[lengthAt + offset] = byte } }
        }
        return .binary(bytes)
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    static func appendText(_ text: String, to bytes: inout [UInt8]) throws {
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        if bytes[start...].contains(0) {
            throw PostgresEncodingError("an array element contains a NUL character, which PostgreSQL text cannot store")
        }
    }

    /// timestamptz: microseconds since 2000-01-01T00:00:00Z.
    static func appendTimestamp(_ date: Date, to bytes: inout [UInt8]) throws {
        guard let micros = PostgresTimestamp.microsecondsSince1970(date), PostgresTimestamp.format(date) != nil else {
            throw PostgresEncodingError("the date is outside the range PostgreSQL timestamps can hold")
        }
        append(micros - 946_684_800_000_000, to: &bytes)
    }
}

/// Element types whose arrays are bound in binary format.
protocol PostgresBinaryArrayElement: PostgresArrayEncodable {
    static var binaryElementType: PostgresDataType { get }
    func appendPostgresBinary(to bytes: inout [UInt8]) throws
}

extension PostgresBinaryArrayElement {
    public static func encodePostgresArrayParameter(_ elements: [Self]) throws -> PostgresEncodedValue {
        try PostgresBinaryArray.encode(elements.lazy.map { Optional($0) }, elementType: binaryElementType) { try $0.appendPostgresBinary(to: &$1) }
    }

    public static func encodePostgresOptionalArrayParameter(_ elements: [Self?]) throws -> PostgresEncodedValue {
        try PostgresBinaryArray.encode(elements, elementType: binaryElementType) { try $0.appendPostgresBinary(to: &$1) }
    }
}

extension Int: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .int8 }
    func appendPostgresBinary(to bytes: inout [UInt8]) { PostgresBinaryArray.append(Int64(self), to: &bytes) }
}

extension Int64: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .int8 }
    func appendPostgresBinary(to bytes: inout [UInt8]) { PostgresBinaryArray.append(self, to: &bytes) }
}

extension Int32: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .int4 }
    func appendPostgresBinary(to bytes: inout [UInt8]) { PostgresBinaryArray.append(self, to: &bytes) }
}

extension Int16: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .int2 }
    func appendPostgresBinary(to bytes: inout [UInt8]) { PostgresBinaryArray.append(self, to: &bytes) }
}

extension Double: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .float8 }
    func appendPostgresBinary(to bytes: inout [UInt8]) { PostgresBinaryArray.append(bitPattern, to: &bytes) }
}

extension Bool: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .bool }
    func appendPostgresBinary(to bytes: inout [UInt8]) { bytes.append(self ? 1 : 0) }
}

extension UUID: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .uuid }
    func appendPostgresBinary(to bytes: inout [UInt8]) { withUnsafeBytes(of: uuid) { bytes.append(contentsOf: $0) } }
}

extension Date: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .timestamptz }
    func appendPostgresBinary(to bytes: inout [UInt8]) throws { try PostgresBinaryArray.appendTimestamp(self, to: &bytes) }
}

extension String: PostgresBinaryArrayElement {
    static var binaryElementType: PostgresDataType { .text }
    func appendPostgresBinary(to bytes: inout [UInt8]) throws { try PostgresBinaryArray.appendText(self, to: &bytes) }
}
