import Contracts
import Foundation

/// A strict, single-pass reader of the members of one JSON object (RFC 8259), for the hot
/// path: the aggregator reads ten members of every incident revision and skips the rest
/// without building a tree. Keys are compared as raw UTF-8 bytes. Anything that is not valid
/// JSON fails with a `JSONScanner.Failure` naming the offset, so a malformed record is parked,
/// never half-read.
struct JSONScanner {
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: structure

    mutating func beginObject() throws(Failure) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        expectingFirstMember = true
    }

    private var expectingFirstMember = true

    /// The next member's key (raw bytes between the quotes) with the `:` consumed, or `nil`
    /// at the end of the object. Keys with escapes are decoded first.
    mutating func nextKey() throws(Failure) -> [UInt8]? {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end inside an object") }
        if bytes[position] == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        if !expectingFirstMember {
            try expect(UInt8(ascii: ","))
            skipWhitespace()
        }
        expectingFirstMember = false
        let key = try stringBytes()
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
        skipWhitespace()
        return key
    }

    /// After the closing brace: only whitespace may follow.
    mutating func end() throws(Failure) {
        skipWhitespace()
        guard position == bytes.count else { throw failure("trailing characters after the object") }
    }

    // MARK: values

    var nextIsNull: Bool {
        position + 3 < bytes.count && bytes[position] == UInt8(ascii: "n") && bytes[position + 1] == UInt8(ascii: "u")
            && bytes[position + 2] == UInt8(ascii: "l") && bytes[position + 3] == UInt8(ascii: "l")
    }

    mutating func readNull() throws(Failure) {
        guard nextIsNull else { throw failure("expected null") }
        position += 4
    }

    mutating func readString() throws(Failure) -> String {
        String(decoding: try stringBytes(), as: UTF8.self)
    }

    mutating func readOptionalString() throws(Failure) -> String? {
        if nextIsNull {
            position += 4
            return nil
        }
        return try readString()
    }

    mutating func readBool() throws(Failure) -> Bool {
        if matches("true") {
            position += 4
            return true
        }
        if matches("false") {
            position += 5
            return false
        }
        throw failure("expected true or false")
    }

    /// An integer that fits in 64 bits (a JSON number without fraction or exponent).
    mutating func readInteger() throws(Failure) -> Int {
        let start = position
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw Failure(offset: start, reason: "integer out of range") }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw Failure(offset: start, reason: "expected an integer") }
        if digits > 1, bytes[start + (negative ? 1 : 0)] == UInt8(ascii: "0") { throw Failure(offset: start, reason: "leading zero") }
        if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
            throw Failure(offset: start, reason: "expected an integer")
        }
        return negative ? -value : value
    }

    /// An RFC 3339 time with offset as a JSON string; `nil` when the text is not one.
    mutating func readTimestamp() throws(Failure) -> Date? {
        RFC3339Bytes.date(try stringBytes())
    }

    mutating func readOptionalTimestamp() throws(Failure) -> Date?? {
        if nextIsNull {
            position += 4
            return .some(nil)
        }
        guard let date = try readTimestamp() else { return nil }
        return .some(date)
    }

    /// Skips any value (objects and arrays with everything inside them), checking its syntax.
    mutating func skipValue() throws(Failure) {
        try skipValue(depth: 0)
    }

    private mutating func skipValue(depth: Int) throws(Failure) {
        guard depth < 64 else { throw failure("nested too deeply") }
        skipWhitespace()
        guard position < bytes.count else { throw failure("expected a value") }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            _ = try stringBytes()
        case UInt8(ascii: "{"):
            position += 1
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return
            }
            while true {
                skipWhitespace()
                _ = try stringBytes()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard position < bytes.count else { throw failure("unexpected end inside an object") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                return
            }
        case UInt8(ascii: "["):
            position += 1
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard position < bytes.count else { throw failure("unexpected end inside an array") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try readBool()
        case UInt8(ascii: "n"):
            try readNull()
        default:
            try skipNumber()
        }
    }

    private mutating func skipNumber() throws(Failure) {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        guard position > integerStart else { throw Failure(offset: start, reason: "expected a value") }
        if position - integerStart > 1, bytes[integerStart] == UInt8(ascii: "0") { throw Failure(offset: start, reason: "leading zero") }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            let fraction = position
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            guard position > fraction else { throw Failure(offset: start, reason: "digits expected after the decimal point") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            let exponent = position
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            guard position > exponent else { throw Failure(offset: start, reason: "digits expected in the exponent") }
        }
    }

    // MARK: strings

    /// The decoded UTF-8 bytes of a string value (escapes resolved, UTF-8 validated).
    private mutating func stringBytes() throws(Failure) -> [UInt8] {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw failure("expected a string") }
        position += 1
        let start = position
        // Fast path: no escapes, ASCII or valid UTF-8 copied as is.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let slice = bytes[start..<position]
                position += 1
                if slice.allSatisfy({ $0 < 0x80 }) { return Array(slice) }
                guard String(validating: slice, as: UTF8.self) != nil else { throw Failure(offset: start, reason: "string is not valid UTF-8") }
                return Array(slice)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("control character in a string") }
            position += 1
        }
        var result = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard String(validating: result, as: UTF8.self) != nil else { throw Failure(offset: start, reason: "string is not valid UTF-8") }
                return result
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw failure("unterminated escape") }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""): result.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): result.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): result.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): result.append(0x08)
                case UInt8(ascii: "f"): result.append(0x0C)
                case UInt8(ascii: "n"): result.append(0x0A)
                case UInt8(ascii: "r"): result.append(0x0D)
                case UInt8(ascii: "t"): result.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hexQuad()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard matches("\\u") else { throw failure("unpaired surrogate") }
                        position += 2
                        let low = try hexQuad()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw failure("unpaired surrogate")
                    }
                    result.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    throw failure("invalid escape")
                }
            default:
                guard byte >= 0x20 else { throw failure("control character in a string") }
                result.append(byte)
                position += 1
            }
        }
        throw Failure(offset: start, reason: "unterminated string")
    }

    private mutating func hexQuad() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    // MARK: helpers

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private func matches(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let pointer = literal.utf8Start
        for index in 0..<count where bytes[position + index] != pointer[index] { return false }
        return true
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard position < bytes.count, bytes[position] == byte else {
            throw failure("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    private func failure(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }
}
