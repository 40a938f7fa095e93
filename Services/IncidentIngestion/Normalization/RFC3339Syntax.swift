/// The grammar of an RFC 3339 `date-time` (§5.6), checked before parsing so that nothing
/// the platform parser would accept loosely (no colon in the offset, hours without minutes)
/// or roll over (February 30th, 24:00) gets through.
enum RFC3339Syntax {
    enum Verdict: Equatable {
        case valid
        /// A well-formed local date-time with no offset at all.
        case missingOffset
        case invalid
    }

    static func check(_ text: String) -> Verdict {
        var text = text
        return text.withUTF8 { check(bytes: $0) }
    }

    private static func check(bytes: UnsafeBufferPointer<UInt8>) -> Verdict {
        var scanner = Scanner(bytes: bytes)
        guard let year = scanner.digits(4), scanner.skip("-"),
            let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.digits(2), scanner.skip(":"),
            let minute = scanner.digits(2), scanner.skip(":"),
            let second = scanner.digits(2)
        else { return .invalid }
        if scanner.skip(".") {
            guard scanner.digits(1) != nil else { return .invalid }
            while scanner.digits(1) != nil {}
        }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return .invalid }

        if scanner.isAtEnd { return .missingOffset }
        if scanner.skip("Z") || scanner.skip("z") { return scanner.isAtEnd ? .valid : .invalid }
        guard scanner.skip("+") || scanner.skip("-"),
            let offsetHour = scanner.digits(2), scanner.skip(":"),
            let offsetMinute = scanner.digits(2), scanner.isAtEnd,
            (0...23).contains(offsetHour), (0...59).contains(offsetMinute)
        else { return .invalid }
        return .valid
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var isAtEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + count)] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
    }
}
