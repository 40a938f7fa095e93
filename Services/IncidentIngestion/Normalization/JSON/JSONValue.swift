import Foundation

/// A JSON document as the intake reads it (`JSONScanner`), before validation turns it into a
/// `RawIncident`. Plain Swift values instead of Foundation's `Any`/`NSNumber` tree: reading one
/// costs no bridging, no dynamic casts and no dictionary per object.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The text of a string value.
    var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }

    /// The value of member `name` when this is an object.
    subscript(name: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[name]
    }
}

/// A JSON number, kept as the kind Foundation's `JSONSerialization` would have produced, so
/// `doubleValue` is bit for bit the value the intake has always used, and re-encoding a value
/// (a refused batch item) writes it as before.
enum JSONNumber: Sendable, Equatable {
    /// An integer that fits `Int64` (negative) …
    case integer(Int64)
    /// … or `UInt64` (not negative).
    case unsigned(UInt64)
    case double(Double)
    /// More than 17 characters before the exponent, and an exponent within ±128: Foundation
    /// keeps these as `NSDecimalNumber`, whose `doubleValue` is not always the nearest double.
    case decimal(Decimal)

    var doubleValue: Double {
        switch self {
        case .integer(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .double(let value): value
        case .decimal(let value): NSDecimalNumber(decimal: value).doubleValue
        }
    }
}

/// The members of a JSON object in document order. A name may occur more than once; as in
/// Foundation's reading (a Swift dictionary), the last value counts and names are compared
/// as Swift strings (canonical equivalence).
struct JSONObject: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var name: String
        var value: JSONValue
    }

    var members: [Member]

    init(members: [Member] = []) {
        self.members = members
    }

    /// The value of the last member called `name`.
    subscript(name: String) -> JSONValue? {
        members.last { $0.name == name }?.value
    }

    /// One entry per distinct name: the spelling of its first occurrence with the value of its
    /// last, exactly what assigning the members to a `[String: …]` in order gives.
    var uniqueMembers: [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        result.reserveCapacity(members.count)
        for member in members { result[member.name] = member.value }
        return result
    }
}
