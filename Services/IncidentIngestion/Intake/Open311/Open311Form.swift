import Foundation

/// The fields of an `application/x-www-form-urlencoded` body or query string, as GeoReport v2
/// sends them: `name=value` pairs joined by `&`, `+` for a space, `%XX` for other bytes, all
/// UTF-8. Fields keep their order and their original bytes, so a submission can be kept as it
/// arrived minus the fields that must not be kept (`redacted(removing:)`).
struct Open311Form: Sendable, Equatable {
    struct Field: Sendable, Equatable {
        var name: String
        var value: String
        /// The `name=value` segment exactly as received.
        var original: Substring
    }

    private(set) var fields: [Field]

    /// Decodes `text`; a malformed escape or bytes that are not UTF-8 make it unreadable.
    init(decoding text: String) throws(Open311Error) {
        var fields: [Field] = []
        for segment in text.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = segment.firstIndex(of: "=") {
                (name, value) = (segment[..<equals], segment[segment.index(after: equals)...])
            } else {
                (name, value) = (segment, "")
            }
            guard let decodedName = Self.decode(name), let decodedValue = Self.decode(value) else {
                throw .badRequest("the request is not valid application/x-www-form-urlencoded: field \(fields.count + 1) has a malformed %-escape")
            }
            fields.append(Field(name: decodedName, value: decodedValue, original: segment))
        }
        self.fields = fields
    }

    /// Decodes the bytes of a body, which must be UTF-8.
    init(decoding bytes: [UInt8]) throws(Open311Error) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .badRequest("the request body is not UTF-8")
        }
        try self.init(decoding: text)
    }

    /// The last value sent for `name`; an empty value counts as not sent, which is how HTML
    /// forms and most clients say "no value".
    subscript(name: String) -> String? {
        guard let value = fields.last(where: { $0.name == name })?.value, !value.isEmpty else { return nil }
        return value
    }

    /// Whether `name` was sent with a non-empty value.
    func contains(_ name: String) -> Bool { self[name] != nil }

    /// GeoReport's `attribute[CODE]=value` fields by code, in the order first seen. A
    /// multi-value list (`attribute[CODE][]=a&attribute[CODE][]=b`) becomes `a,b`.
    var attributes: [(code: String, value: String)] {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for field in fields {
            guard field.name.hasPrefix("attribute["), let close = field.name.firstIndex(of: "]") else { continue }
            let code = String(field.name[field.name.index(field.name.startIndex, offsetBy: 10)..<close])
            let rest = field.name[field.name.index(after: close)...]
            guard rest.isEmpty || rest == "[]", !field.value.isEmpty else { continue }
            if values[code] == nil { order.append(code) }
            values[code, default: []].append(field.value)
        }
        return order.map { ($0, values[$0, default: []].joined(separator: ",")) }
    }

    /// The fields as received, without those named in `names`.
    func redacted(removing names: Set<String>) -> [UInt8] {
        Array(fields.filter { !names.contains($0.name) }.map(\.original).joined(separator: "&").utf8)
    }

    private static func decode(_ text: Substring) -> String? {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard spaced.contains("%") else { return spaced }
        return spaced.removingPercentEncoding
    }
}
