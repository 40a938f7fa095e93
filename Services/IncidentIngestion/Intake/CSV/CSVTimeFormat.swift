import Contracts

/// How an export writes its times: a pattern in Unicode date-pattern letters, or `rfc3339`.
///
/// Pattern letters: `yyyy` year; `M` / `MM` month (1–2 digits / exactly 2); `d` / `dd` day;
/// `H` / `HH` hour 0–23; `h` / `hh` hour 1–12, which needs `a` (AM/PM, either case);
/// `m` / `mm` minute; `s` / `ss` second; `S`… fractional second (exactly that many
/// digits). Text in single quotes is literal (`'T'`, `''` for a quote); any other
/// non-letter stands for itself. Year, month and day are required; missing time parts are 0.
/// The whole field must match: nothing is skipped or guessed.
///
/// `rfc3339` is for exports that already carry an offset (`2025-03-14T01:20:00-04:00`):
/// such text is checked and passed on unchanged, whatever the mapping's time zone.
struct CSVTimeFormat: Sendable, Hashable, CustomStringConvertible {
    struct PatternError: Error, Sendable, Hashable {
        var message: String
    }

    /// A time as read: a wall time still to place in a zone, or text that already has an offset.
    enum Reading: Sendable, Hashable {
        case local(CSVLocalTime)
        case absolute(String)
    }

    private enum Field: Sendable, Hashable {
        case year, month, day, hour24, hour12, minute, second
    }

    private enum Token: Sendable, Hashable {
        case number(Field, minDigits: Int, maxDigits: Int)
        case fraction(digits: Int)
        case meridiem
        case literal([UInt8])
    }

    static let rfc3339Name = "rfc3339"

    let pattern: String
    private let tokens: [Token]

    var description: String { pattern }

    init(_ pattern: String) throws(PatternError) {
        self.pattern = pattern
        tokens = pattern == Self.rfc3339Name ? [] : try Self.tokenize(pattern)
    }

    /// The time in `text`, or `nil` when it does not match the pattern or names no real date.
    func read(_ text: String) -> Reading? {
        if tokens.isEmpty {
            return RFC3339.date(from: text) != nil && Self.hasExplicitOffset(text) ? .absolute(text) : nil
        }
        let bytes = Array(text.utf8)
        var index = 0
        var time = CSVLocalTime(year: 0, month: 0, day: 0)
        var hour12: Int?
        var isPM: Bool?
        for token in tokens {
            switch token {
            case .literal(let expected):
                guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else { return nil }
                index += expected.count
            case .meridiem:
                guard bytes.count - index >= 2, bytes[index + 1] | 0x20 == UInt8(ascii: "m") else { return nil }
                switch bytes[index] | 0x20 {
                case UInt8(ascii: "a"): isPM = false
                case UInt8(ascii: "p"): isPM = true
                default: return nil
                }
                index += 2
            case .fraction(let digits):
                guard let (_, count) = Self.digits(bytes, from: index, max: digits), count == digits else { return nil }
                time.fraction = String(decoding: bytes[index..<index + count], as: UTF8.self)
                index += count
            case .number(let field, let minDigits, let maxDigits):
                guard let (value, count) = Self.digits(bytes, from: index, max: maxDigits), count >= minDigits else { return nil }
                index += count
                switch field {
                case .year: time.year = value
                case .month: time.month = value
                case .day: time.day = value
                case .hour24: time.hour = value
                case .hour12: hour12 = value
                case .minute: time.minute = value
                case .second: time.second = value
                }
            }
        }
        guard index == bytes.count else { return nil }
        if let hour12, let isPM {
            guard (1...12).contains(hour12) else { return nil }
            time.hour = hour12 % 12 + (isPM ? 12 : 0)
        }
        return time.isValid ? .local(time) : nil
    }

    // MARK: - Pattern

    private static func digits(_ bytes: [UInt8], from start: Int, max: Int) -> (value: Int, count: Int)? {
        var value = 0
        var index = start
        while index < bytes.count, index - start < max, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index > start ? (value, index - start) : nil
    }

    /// RFC 3339 demands an offset; `RFC3339.date` would also take the bare forms ISO 8601 allows.
    private static func hasExplicitOffset(_ text: String) -> Bool {
        guard let timePart = text.split(separator: "T", maxSplits: 1).dropFirst().first else { return false }
        return timePart.hasSuffix("Z") || timePart.hasSuffix("z") || timePart.contains("+") || timePart.contains("-")
    }

    private static func tokenize(_ pattern: String) throws(PatternError) -> [Token] {
        var tokens: [Token] = []
        var literal: [UInt8] = []
        var seen: Set<Character> = []
        let characters = Array(pattern)
        var index = 0
        func flushLiteral() {
            if !literal.isEmpty { tokens.append(.literal(literal)) }
            literal = []
        }
        while index < characters.count {
            let character = characters[index]
            if character == "'" {
                // '' is a quote; 'text' is literal text.
                if index + 1 < characters.count, characters[index + 1] == "'" {
                    literal.append(UInt8(ascii: "'"))
                    index += 2
                    continue
                }
                guard let close = characters[(index + 1)...].firstIndex(of: "'") else {
                    throw PatternError(message: "unclosed quote in \"\(pattern)\"")
                }
                literal.append(contentsOf: String(characters[(index + 1)..<close]).utf8)
                index = close + 1
                continue
            }
            guard character.isASCII, character.isLetter else {
                literal.append(contentsOf: String(character).utf8)
                index += 1
                continue
            }
            var count = 1
            while index + count < characters.count, characters[index + count] == character { count += 1 }
            index += count
            flushLiteral()
            guard seen.insert(character).inserted else {
                throw PatternError(message: "\"\(character)\" appears twice in \"\(pattern)\"")
            }
            tokens.append(try token(character, count: count, pattern: pattern))
        }
        flushLiteral()
        for required in ["y", "M", "d"] as [Character] where !seen.contains(required) {
            throw PatternError(message: "\"\(pattern)\" has no \(required == "y" ? "year (yyyy)" : required == "M" ? "month (M)" : "day (d)")")
        }
        if seen.contains("h") != seen.contains("a") {
            throw PatternError(message: "\"\(pattern)\": a 12-hour clock (h) and AM/PM (a) go together; use H for a 24-hour clock")
        }
        if seen.contains("h"), seen.contains("H") {
            throw PatternError(message: "\"\(pattern)\" has both H and h")
        }
        return tokens
    }

    private static func token(_ letter: Character, count: Int, pattern: String) throws(PatternError) -> Token {
        func oneOrTwo(_ field: Field) throws(PatternError) -> Token {
            guard count <= 2 else {
                throw PatternError(message: "\"\(String(repeating: letter, count: count))\" in \"\(pattern)\": use \(letter) or \(letter)\(letter)")
            }
            return .number(field, minDigits: count, maxDigits: 2)
        }
        switch letter {
        case "y":
            guard count == 4 else {
                throw PatternError(message: "\"\(pattern)\": write the year as yyyy (two-digit years are ambiguous)")
            }
            return .number(.year, minDigits: 4, maxDigits: 4)
        case "M":
            guard count <= 2 else { throw PatternError(message: "\"\(pattern)\": month names are not supported; use M or MM") }
            return .number(.month, minDigits: count, maxDigits: 2)
        case "d": return try oneOrTwo(.day)
        case "H": return try oneOrTwo(.hour24)
        case "h": return try oneOrTwo(.hour12)
        case "m": return try oneOrTwo(.minute)
        case "s": return try oneOrTwo(.second)
        case "S":
            guard count <= 9 else { throw PatternError(message: "\"\(pattern)\": at most 9 fractional digits (S)") }
            return .fraction(digits: count)
        case "a":
            guard count == 1 else { throw PatternError(message: "\"\(pattern)\": write AM/PM as a single a") }
            return .meridiem
        default:
            throw PatternError(message: "\"\(pattern)\": unsupported pattern letter \"\(letter)\" (quote literal text: 'T')")
        }
    }
}
