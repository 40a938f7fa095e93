import Foundation
import Testing
import TestSupport

@testable import IncidentIngestion

/// The intake's JSON reader against Foundation's `JSONSerialization`, the reader it replaced:
/// same verdict on every input, same values for every accepted one.
@Suite("JSON scanner")
struct JSONScannerTests {
    /// Foundation's reading of `bytes`, or `nil` when it refuses them.
    static func foundation(_ bytes: [UInt8], allowFragments: Bool = true) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: allowFragments ? [.fragmentsAllowed] : [])
    }

    /// Whether a scanned value is what Foundation read: strings equal scalar for scalar, numbers
    /// with the same double (and the same integer, for integers), objects with the same members.
    static func same(_ value: JSONValue, _ object: Any) -> Bool {
        switch value {
        case .null: return object is NSNull
        case .bool(let bool):
            guard let number = object as? NSNumber, JSONValue(foundation: number) == .bool(bool) else { return false }
            return true
        case .number(let number):
            guard let other = object as? NSNumber, JSONValue(foundation: other) != .bool(other.boolValue) else { return false }
            switch number {
            case .integer(let value): return other.int64Value == value && other.doubleValue.bitPattern == number.doubleValue.bitPattern
            case .unsigned(let value): return other.uint64Value == value && other.doubleValue.bitPattern == number.doubleValue.bitPattern
            case .double, .decimal: return other.doubleValue.bitPattern == number.doubleValue.bitPattern
            }
        case .string(let text):
            guard let other = object as? String else { return false }
            return Array(text.unicodeScalars) == Array(other.unicodeScalars)
        case .array(let elements):
            guard let other = object as? [Any], other.count == elements.count else { return false }
            return zip(elements, other).allSatisfy { same($0, $1) }
        case .object(let members):
            guard let other = object as? [String: Any] else { return false }
            let unique = members.uniqueMembers
            guard unique.count == other.count else { return false }
            return unique.allSatisfy { name, value in
                guard let index = other.index(forKey: name) else { return false }
                return Array(other[index].key.unicodeScalars) == Array(name.unicodeScalars) && same(value, other[index].value)
            }
        }
    }

    static func expectSameVerdict(_ bytes: [UInt8], allowFragments: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        let ours = JSONScanner.parse(bytes, allowFragments: allowFragments)
        let theirs = foundation(bytes, allowFragments: allowFragments)
        let shown = String(decoding: bytes.prefix(160), as: UTF8.self).debugDescription
        #expect((ours == nil) == (theirs == nil), "verdicts differ for \(shown) \(bytes.prefix(8))", sourceLocation: sourceLocation)
        if let ours, let theirs {
            #expect(same(ours, theirs), "values differ for \(shown)", sourceLocation: sourceLocation)
        }
    }

    static let tricky: [String] = [
        // Documents and fragments.
        "{}", "[]", "{ }", "[ ]", " \n\t\r{} \n", "\"abc\"", "5", "-0", "true", "false", "null", "", "   ", "{} x", "{}{}", "[1]\n",
        // Foundation's trailing commas (one, before a closing bracket only).
        "[1,]", "{\"a\":1,}", "[1 ,\n]", "{\"a\":[1,],}", "[1,,]", "[,]", "{,}", "[,1]", "{\"a\":1,,}",
        // Structure errors.
        "{'a':1}", "{a:1}", "{1:2}", "{\"a\" 1}", "{\"a\":}", "[1 2]", "[", "]", "{\"a\":1", "[1,", "[1}", "{\"a\":1]",
        // Literals.
        "[TRUE]", "[nul]", "[tru]", "[truex]", "[nulll]", "[NaN]", "[Infinity]", "[-Infinity]",
        // Numbers: grammar and representability.
        "[-0.0]", "[-0e0]", "[1E5]", "[1e5]", "[1.5e+3]", "[1.5E-3]", "[0e5]", "[1e05]", "[0.0e0]",
        "[01]", "[-01]", "[00]", "[1.]", "[.5]", "[+1]", "[-]", "[1e]", "[1e+]", "[1.e5]", "[1.2.3]", "[1e5.5]", "[0x10]", "[1e+-5]",
        "[1e400]", "[-1e400]", "[1e-400]", "[123456789012345678901234567890]", "[9223372036854775807]", "[9223372036854775808]",
        "[-9223372036854775808]", "[-9223372036854775809]", "[18446744073709551615]", "[18446744073709551616]",
        "[-12.345678901234567891]", "[1.2345678901234567E5]", "[40.65651334]", "[-73.88182509]", "[-122.41920220099999]",
        "[123456789012345678901e400]", "[1234567890123456789.5e-150]", "[1x]", "[1 ]", "[1\u{0C}]", "[1\u{0B}]",
        // Strings: escapes, unicode, control characters.
        "[\"\\x41\"]", "[\"\\/\"]", "[\"\\U0041\"]", "[\"\\u41\"]", "[\"\\u0000\"]", "[\"\\u00e9\"]", "[\"\\u00E9\"]",
        "[\"\\ud83d\\ude00\"]", "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"\\ud800x\"]", "[\"\\uD83D\\uDE00\"]",
        "[\"a\\\"b\\\\c\\b\\f\\n\\r\\t\"]", "[\"x\ny\"]", "[\"x\ty\"]", "[\"x\u{7F}y\"]", "[\"é😀\u{2028}\"]", "[\"unterminated]", "[\"\\\"]",
        // Members: duplicates, canonically equivalent names, nesting.
        "{\"a\":1,\"a\":2}", "{\"caf\\u00e9\":1,\"cafe\\u0301\":2}", "{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
        // Byte order marks.
        "\u{FEFF}{\"a\":1}", "\u{FEFF}\u{FEFF}{}", " \u{FEFF}{}", "{\"a\":1}\u{FEFF}", "[\"\u{FEFF}a\"]", "[\"a\\n\u{FEFF}b\"]", "[\"a\u{FEFF}b\"]",
        "[\"\u{FEFF}\u{FEFF}b\"]",
    ]

    @Test("tricky inputs: the same verdict and values as JSONSerialization, with and without fragments")
    func trickyInputs() {
        for text in Self.tricky {
            Self.expectSameVerdict(Array(text.utf8))
            Self.expectSameVerdict(Array(text.utf8), allowFragments: false)
        }
    }

    @Test("byte-level oddities: invalid UTF-8, UTF-16 and UTF-32 text, zero bytes")
    func encodings() {
        let cases: [[UInt8]] = [
            Array("[\"".utf8) + [0xC3, 0x28] + Array("\"]".utf8),  // invalid sequence
            Array("[\"".utf8) + [0xC0, 0xAF] + Array("\"]".utf8),  // overlong
            Array("[\"".utf8) + [0xED, 0xA0, 0x80] + Array("\"]".utf8),  // an encoded surrogate
            Array("[\"caf".utf8) + [0xE9] + Array("\"]".utf8),  // Latin-1
            [0xFF] + Array("[1]".utf8), Array("[1]".utf8) + [0x80],
            Array("{\"a\":1}".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
            Array("{\"a\":1}".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }),
            [0xFF, 0xFE] + Array("{\"a\":1}".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }),
            [0xFE, 0xFF] + Array("[1]".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }),
            [0, 0, 0xFE, 0xFF] + Array("[1]".unicodeScalars.flatMap { [0, 0, 0, UInt8($0.value)] }),
            Array("[1]".unicodeScalars.flatMap { [UInt8($0.value), 0, 0, 0] }),
            [0x5B, 0x00], [0x00], [0x5B, 0x31, 0x5D, 0x00], [0xEF, 0xBB, 0xBF], [0xEF, 0xBB, 0xBF, 0x00, 0x5B, 0x5D],
        ]
        for bytes in cases {
            Self.expectSameVerdict(bytes)
            Self.expectSameVerdict(bytes, allowFragments: false)
        }
    }

    @Test("nesting: 512 levels are read, 513 are refused, as by Foundation")
    func depth() {
        for depth in [511, 512, 513, 2000] {
            Self.expectSameVerdict(Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8))
            Self.expectSameVerdict(Array((String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)).utf8))
        }
        #expect(JSONScanner.parse(Array((String(repeating: "[", count: 512) + String(repeating: "]", count: 512)).utf8)) != nil)
        #expect(JSONScanner.parse(Array((String(repeating: "[", count: 513) + String(repeating: "]", count: 513)).utf8)) == nil)
    }

    @Test("values: escapes decoded, the last duplicate wins, numbers as NSNumber would hold them")
    func values() throws {
        let value = try #require(JSONScanner.parse(Array(#"{"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","n":[1,-2,3.5,1e2,18446744073709551615,-12.345678901234567891],"d":1,"d":2,"t":true,"z":null}"#.utf8)))
        #expect(value["s"] == .string("a\"\\/\u{8}\u{C}\n\r\té😀"))
        #expect(value["d"] == .number(.unsigned(2)))
        #expect(value["t"] == .bool(true))
        #expect(value["z"] == .null)
        #expect(value["missing"] == nil)
        guard case .array(let numbers)? = value["n"] else {
            Issue.record("no array")
            return
        }
        #expect(numbers[0] == .number(.unsigned(1)))
        #expect(numbers[1] == .number(.integer(-2)))
        #expect(numbers[2] == .number(.double(3.5)))
        #expect(numbers[3] == .number(.double(100)))
        #expect(numbers[4] == .number(.unsigned(.max)))
        guard case .number(let decimal) = numbers[5], case .decimal = decimal else {
            Issue.record("a long mantissa should be a Decimal, as in Foundation")
            return
        }
        // Not the nearest double to the text: what Foundation's NSDecimalNumber gives.
        #expect(decimal.doubleValue == -12.345678901234564)
    }

    /// A random JSON text: objects, arrays, strings with escapes and unicode, numbers of every
    /// shape, whitespace and the occasional trailing comma.
    static func randomDocument(_ random: inout SeededRandom, depth: Int = 0) -> String {
        func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &random)] }
        func whitespace() -> String { Bool.random(using: &random) ? "" : pick([" ", "\n", "\t", "\r\n ", "  "]) }
        func string() -> String {
            var text = "\""
            for _ in 0..<Int.random(in: 0...8, using: &random) {
                text += pick(["a", "Z", "0", " ", "é", "😀", "\u{2028}", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\u0000", "\\t", "\u{7F}", "ß", "e\u{301}"])
            }
            return text + "\""
        }
        func number() -> String {
            var text = Bool.random(using: &random) ? "-" : ""
            text += pick(["0", "1", "7", "40", "123456789", "98765432109876543210", "12345678901234567890123"])
            if Bool.random(using: &random) { text += "." + pick(["0", "5", "65651334", "88182509", "1234567890123456789"]) }
            if Int.random(in: 0..<4, using: &random) == 0 { text += pick(["e", "E"]) + pick(["", "+", "-"]) + pick(["0", "5", "17", "300", "400"]) }
            return text
        }
        let kind = depth > 4 ? Int.random(in: 0..<4, using: &random) : Int.random(in: 0..<6, using: &random)
        switch kind {
        case 0: return string()
        case 1: return number()
        case 2: return pick(["true", "false", "null"])
        case 3: return number()
        case 4:
            let members = (0..<Int.random(in: 0...5, using: &random)).map { _ in
                whitespace() + pick([string(), "\"source\"", "\"lat\""]) + whitespace() + ":" + whitespace() + randomDocument(&random, depth: depth + 1) + whitespace()
            }
            return "{" + members.joined(separator: ",") + (Int.random(in: 0..<8, using: &random) == 0 && !members.isEmpty ? "," : "") + "}"
        default:
            let elements = (0..<Int.random(in: 0...5, using: &random)).map { _ in whitespace() + randomDocument(&random, depth: depth + 1) + whitespace() }
            return "[" + elements.joined(separator: ",") + (Int.random(in: 0..<8, using: &random) == 0 && !elements.isEmpty ? "," : "") + "]"
        }
    }

    @Test("random documents and random corruptions of them: the same verdict and values as JSONSerialization")
    func randomDocuments() {
        var random = SeededRandom(seed: 0x5EED_0001)
        for _ in 0..<5000 {
            let document = Array(Self.randomDocument(&random).utf8)
            Self.expectSameVerdict(document)
            // One byte replaced, inserted or removed.
            var corrupted = document
            let position = Int.random(in: 0..<corrupted.count, using: &random)
            let byte = [UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "e"),
                        UInt8(ascii: "."), UInt8(ascii: "-"), 0x0A, 0x00, 0x7F, 0xC3, 0xFF][Int.random(in: 0..<13, using: &random)]
            switch Int.random(in: 0..<3, using: &random) {
            case 0: corrupted[position] = byte
            case 1: corrupted.insert(byte, at: position)
            default: corrupted.remove(at: position)
            }
            Self.expectSameVerdict(corrupted)
        }
    }
}
