import Foundation

/// Between `JSONValue` and Foundation's JSON objects: the CSV importer and Open311 build
/// `[String: Any]` incidents, text Foundation reads as UTF-16 or UTF-32 comes back as Foundation
/// objects, and a refused batch item is re-encoded with `JSONSerialization` as before.
extension JSONValue {
    /// A Foundation JSON value (`JSONSerialization` output, or Swift strings, numbers, booleans,
    /// arrays, `[String: Any]` and `NSNull`); `nil` for anything JSON cannot hold. Types are
    /// told apart the way the validator always has: a boolean `NSNumber` is a boolean, never a
    /// number.
    init?(foundation value: Any) {
        if value is NSNull {
            self = .null
        } else if let text = value as? String {
            self = .string(text)
        } else if let object = value as? [String: Any] {
            var members: [JSONObject.Member] = []
            members.reserveCapacity(object.count)
            for (name, member) in object {
                guard let converted = JSONValue(foundation: member) else { return nil }
                members.append(JSONObject.Member(name: name, value: converted))
            }
            self = .object(JSONObject(members: members))
        } else if let array = value as? [Any] {
            var elements: [JSONValue] = []
            elements.reserveCapacity(array.count)
            for element in array {
                guard let converted = JSONValue(foundation: element) else { return nil }
                elements.append(converted)
            }
            self = .array(elements)
        } else if let number = value as? NSNumber {
            if ObjectIdentifier(type(of: number)) == Self.booleanClass {
                self = .bool(number.boolValue)
            } else if let decimal = number as? NSDecimalNumber {
                self = .number(.decimal(decimal.decimalValue))
            } else {
                switch String(cString: number.objCType) {
                case "d", "f": self = .number(.double(number.doubleValue))
                case "Q", "L", "I", "S", "C": self = .number(.unsigned(number.uint64Value))
                default: self = .number(.integer(number.int64Value))
                }
            }
        } else {
            return nil
        }
    }

    private static let booleanClass = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// The value as the Foundation objects `JSONSerialization` would have produced.
    var foundationObject: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): NSNumber(value: value)
        case .number(.integer(let value)): NSNumber(value: value)
        case .number(.unsigned(let value)): NSNumber(value: value)
        case .number(.double(let value)): NSNumber(value: value)
        case .number(.decimal(let value)): NSDecimalNumber(decimal: value)
        case .string(let value): value
        case .array(let elements): elements.map(\.foundationObject)
        case .object(let object): object.uniqueMembers.mapValues(\.foundationObject)
        }
    }
}
