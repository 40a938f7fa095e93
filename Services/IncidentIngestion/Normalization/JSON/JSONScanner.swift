import Foundation

/// Reads JSON text into a `JSONValue` in one pass over the bytes.
///
/// It accepts and refuses exactly what Foundation's `JSONSerialization` does on this platform
/// (the reader the intake used before), so no record changes verdict and no accepted value
/// changes: the tests compare the two on tricky and random input. That includes Foundation's
/// leniencies, kept on purpose:
/// - a trailing comma before `]` or `}`;
/// - one UTF-8 byte order mark before the document, and one at the start of each run of raw
///   text inside a string (Foundation decodes string text run by run and drops a leading BOM);
/// - a repeated member name: the last value counts (see `JSONObject`);
/// - numbers become what `NSNumber` would hold (`JSONNumber`); one that is not finite as a
///   double (`1e400`) makes the document invalid, unless a later member of the same name
///   replaced the member holding it (Foundation converts numbers only after that);
/// - nesting deeper than 512 arrays or objects is refused.
/// Text Foundation would read as UTF-16 or UTF-32 (a byte order mark, or zero bytes among the
/// first four) is handed to Foundation itself: rare, and not worth a second decoder.
enum JSONScanner {
    static let maximumDepth = 512

    /// The document, or `nil` when the bytes are not JSON. Without `allowFragments` the
    /// document must be an array or an object.
    static func parse(_ bytes: [UInt8], allowFragments: Bool = true) -> JSONValue? {
        if needsFoundation(bytes) { return parseWithFoundation(bytes, allowFragments: allowFragments) }
        return bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard let document = try? reader.document(allowFragments: allowFragments) else { return nil }
            return reader.sawUnrepresentableNumber ? surviving(document) : document
        }
    }

    /// A number Foundation cannot convert is kept as NaN (which no JSON text can produce)
    /// until the end: the document is invalid only if one is still reachable once every
    /// repeated member name has kept its last value. The members replaced are dropped here.
    private static func surviving(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .number(.double(let number)) where number.isNaN:
            return nil
        case .array(let elements):
            var kept: [JSONValue] = []
            kept.reserveCapacity(elements.count)
            for element in elements {
                guard let element = surviving(element) else { return nil }
                kept.append(element)
            }
            return .array(kept)
        case .object(let object):
            let unique = object.uniqueMembers
            var kept: [JSONObject.Member] = []
            kept.reserveCapacity(unique.count)
            for member in object.members {
                guard let index = unique.index(forKey: member.name), unique[index].key.unicodeScalars.elementsEqual(member.name.unicodeScalars),
                      !kept.contains(where: { $0.name == member.name }) else { continue }
                guard let survivor = surviving(unique[index].value) else { return nil }
                kept.append(JSONObject.Member(name: member.name, value: survivor))
            }
            return .object(JSONObject(members: kept))
        default:
            return value
        }
    }

    /// Whether Foundation would decode these bytes as something other than UTF-8: a UTF-16 or
    /// UTF-32 byte order mark, or a zero byte among the first four (its encoding detection).
    /// A zero byte is never valid in UTF-8 JSON text, so handing those over changes nothing
    /// even where Foundation would end up reading UTF-8 after all.
    static func needsFoundation(_ bytes: [UInt8]) -> Bool {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { return false }
        if bytes.count >= 2, (bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF) { return true }
        return bytes.prefix(4).contains(0)
    }

    private static func parseWithFoundation(_ bytes: [UInt8], allowFragments: Bool) -> JSONValue? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: allowFragments ? [.fragmentsAllowed] : []) else {
            return nil
        }
        return JSONValue(foundation: object)
    }

    struct Invalid: Error {}

    /// The cursor over one document. Every method starts at the first byte of what it reads.
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var depth = 0
        /// Set when a number could not be converted (see `surviving`).
        var sawUnrepresentableNumber = false

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        mutating func document(allowFragments: Bool) throws(Invalid) -> JSONValue {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
            let first = try skipWhitespace()
            guard allowFragments || first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { throw Invalid() }
            let value = try value()
            while index < bytes.count {
                guard Self.isWhitespace(bytes[index]) else { throw Invalid() }
                index += 1
            }
            return value
        }

        static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
        }

        /// Skips whitespace and returns the next byte; the end of the text is an error.
        @discardableResult
        mutating func skipWhitespace() throws(Invalid) -> UInt8 {
            while index < bytes.count {
                let byte = bytes[index]
                guard Self.isWhitespace(byte) else { return byte }
                index += 1
            }
            throw Invalid()
        }

        mutating func value() throws(Invalid) -> JSONValue {
            switch try skipWhitespace() {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "{"): return .object(try object())
            case UInt8(ascii: "["): return .array(try array())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw Invalid()
            }
        }

        private mutating func literal(_ word: StaticString) throws(Invalid) {
            let length = word.utf8CodeUnitCount
            guard index + length <= bytes.count else { throw Invalid() }
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: length)
            for offset in 0..<length where bytes[index + offset] != expected[offset] { throw Invalid() }
            index += length
        }

        private mutating func enter() throws(Invalid) {
            guard depth < JSONScanner.maximumDepth else { throw Invalid() }
            depth += 1
            index += 1
        }

        mutating func array() throws(Invalid) -> [JSONValue] {
            try enter()
            defer { depth -= 1 }
            if try skipWhitespace() == UInt8(ascii: "]") {
                index += 1
                return []
            }
            var elements: [JSONValue] = []
            while true {
                elements.append(try value())
                switch try skipWhitespace() {
                case UInt8(ascii: "]"):
                    index += 1
                    return elements
                case UInt8(ascii: ","):
                    index += 1
                    if try skipWhitespace() == UInt8(ascii: "]") {
                        index += 1
                        return elements
                    }
                default:
                    throw Invalid()
                }
            }
        }

        mutating func object() throws(Invalid) -> JSONObject {
            try enter()
            defer { depth -= 1 }
            if try skipWhitespace() == UInt8(ascii: "}") {
                index += 1
                return JSONObject()
            }
            var members: [JSONObject.Member] = []
            while true {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Invalid() }
                let name = try string()
                guard try skipWhitespace() == UInt8(ascii: ":") else { throw Invalid() }
                index += 1
                members.append(JSONObject.Member(name: name, value: try value()))
                switch try skipWhitespace() {
                case UInt8(ascii: "}"):
                    index += 1
                    return JSONObject(members: members)
                case UInt8(ascii: ","):
                    index += 1
                    if try skipWhitespace() == UInt8(ascii: "}") {
                        index += 1
                        return JSONObject(members: members)
                    }
                default:
                    throw Invalid()
                }
            }
        }

        // MARK: Strings

        mutating func string() throws(Invalid) -> String {
            index += 1  // the opening quote
            var runStart = index
            var escaped: String?
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    let run = try text(runStart..<index)
                    index += 1
                    guard var escaped else { return run }
                    escaped += run
                    return escaped
                case UInt8(ascii: "\\"):
                    var result = escaped ?? ""
                    result += try text(runStart..<index)
                    try escape(into: &result)
                    escaped = result
                    runStart = index
                case 0..<0x20:
                    throw Invalid()
                default:
                    index += 1
                }
            }
            throw Invalid()
        }

        /// One run of raw string text, validated as UTF-8 (Foundation drops a leading BOM).
        private func text(_ range: Range<Int>) throws(Invalid) -> String {
            var start = range.lowerBound
            if range.count >= 3, bytes[start] == 0xEF, bytes[start + 1] == 0xBB, bytes[start + 2] == 0xBF { start += 3 }
            guard start < range.upperBound else { return "" }
            guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<range.upperBound]), as: UTF8.self) else {
                throw Invalid()
            }
            return text
        }

        private mutating func escape(into result: inout String) throws(Invalid) {
            index += 1  // the backslash
            guard index < bytes.count else { throw Invalid() }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): result += "\""
            case UInt8(ascii: "\\"): result += "\\"
            case UInt8(ascii: "/"): result += "/"
            case UInt8(ascii: "b"): result += "\u{08}"
            case UInt8(ascii: "f"): result += "\u{0C}"
            case UInt8(ascii: "n"): result += "\n"
            case UInt8(ascii: "r"): result += "\r"
            case UInt8(ascii: "t"): result += "\t"
            case UInt8(ascii: "u"):
                let unit = try hexQuad()
                let scalar: Unicode.Scalar?
                if unit & 0xFC00 == 0xD800 {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw Invalid()
                    }
                    index += 2
                    let low = try hexQuad()
                    guard low & 0xFC00 == 0xDC00 else { throw Invalid() }
                    scalar = Unicode.Scalar((UInt32(unit) - 0xD800) * 0x400 + (UInt32(low) - 0xDC00) + 0x10000)
                } else {
                    scalar = Unicode.Scalar(unit)
                }
                guard let scalar else { throw Invalid() }
                result.unicodeScalars.append(scalar)
            default:
                throw Invalid()
            }
        }

        private mutating func hexQuad() throws(Invalid) -> UInt16 {
            guard index + 4 <= bytes.count else { throw Invalid() }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                default: throw Invalid()
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        // MARK: Numbers

        private enum NumberPart { case integer, fraction, exponent, exponentSign }

        /// The grammar Foundation's reader checks (no leading zeros, digits after `.` and `e`),
        /// then the conversion `NSNumber` makes.
        mutating func number() throws(Invalid) -> JSONNumber {
            let start = index
            var part = NumberPart.integer
            var digitsInPart = 0
            var leadingZero = false
            if bytes[index] == UInt8(ascii: "0") {
                leadingZero = true
                digitsInPart = 1
            } else if bytes[index] != UInt8(ascii: "-") {
                digitsInPart = 1
            }
            index += 1
            scan: while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "0"):
                    guard !leadingZero else { throw Invalid() }
                    if digitsInPart == 0, part == .integer { leadingZero = true }
                    digitsInPart += 1
                case UInt8(ascii: "1")...UInt8(ascii: "9"):
                    guard !leadingZero else { throw Invalid() }
                    digitsInPart += 1
                case UInt8(ascii: "."):
                    guard digitsInPart > 0, part == .integer else { throw Invalid() }
                    leadingZero = false
                    part = .fraction
                    digitsInPart = 0
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    guard digitsInPart > 0, part == .integer || part == .fraction else { throw Invalid() }
                    leadingZero = false
                    part = .exponent
                    digitsInPart = 0
                case UInt8(ascii: "+"), UInt8(ascii: "-"):
                    guard digitsInPart == 0, part == .exponent else { throw Invalid() }
                    part = .exponentSign
                case 0x20, 0x0A, 0x0D, 0x09, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"):
                    break scan
                default:
                    throw Invalid()
                }
                index += 1
            }
            guard digitsInPart > 0 else { throw Invalid() }
            guard let number = Self.convert(UnsafeBufferPointer(rebasing: bytes[start..<index])) else {
                sawUnrepresentableNumber = true
                return .double(.nan)
            }
            return number
        }

        /// What `NSNumber` Foundation makes of the number's text: an integer when it has no
        /// `.` and no lower-case `e` and fits, a `Decimal` for long mantissas, else a double;
        /// `nil` when it is none of these (not finite).
        static func convert(_ text: UnsafeBufferPointer<UInt8>) -> JSONNumber? {
            let string = String(decoding: text, as: UTF8.self)
            let exponentIndex = text.firstIndex(of: UInt8(ascii: "e"))
            let isInteger = exponentIndex == nil && !text.contains(UInt8(ascii: "."))
            let isNegative = text[0] == UInt8(ascii: "-")
            let digitCount = exponentIndex ?? text.count
            if isInteger {
                if isNegative {
                    if digitCount <= 19, let value = Int64(string) { return .integer(value) }
                } else if digitCount <= 20, let value = UInt64(string) {
                    return .unsigned(value)
                }
            }
            var exponent = 0
            if let exponentIndex {
                exponent = Int(String(decoding: UnsafeBufferPointer(rebasing: text[(exponentIndex + 1)...]), as: UTF8.self)) ?? 0
            }
            if digitCount > 17, exponent >= -128, exponent <= 127, let decimal = Decimal(string: string), decimal.isFinite {
                return .decimal(decimal)
            }
            guard let value = Double(string), value.isFinite else { return nil }
            return .double(value)
        }
    }
}
