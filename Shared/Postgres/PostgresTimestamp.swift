import Foundation

/// Converts between `Date` and PostgreSQL's timestamp text forms, at microsecond precision
/// (timestamptz's own), without DateFormatter: exact, fast and thread-safe.
enum PostgresTimestamp {
    private static let microsecondsPerSecond: Int64 = 1_000_000
    /// Seconds from 1970-01-01 to Foundation's reference date 2001-01-01.
    private static let referenceDateOffset: Int64 = 978_307_200

    static func microsecondsSince1970(_ date: Date) -> Int64? {
        let micros = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
        // ±2^62 µs is ±146,000 years: beyond PostgreSQL's range, and safe from Int64 overflow.
        guard micros.isFinite, abs(micros) < 4.6e18 else { return nil }
        return Int64(micros) + referenceDateOffset * microsecondsPerSecond
    }

    static func date(microsecondsSince1970 micros: Int64) -> Date {
        Date(
            timeIntervalSinceReferenceDate: Double(micros - referenceDateOffset * microsecondsPerSecond)
                / 1_000_000)
    }

    /// `2024-05-06T07:08:09.123456Z` (RFC 3339, UTC); years before 1 AD get PostgreSQL's `BC`.
    static func format(_ date: Date) -> String? {
        guard let micros = microsecondsSince1970(date) else { return nil }
        let (seconds, fraction) = floorDivide(micros, microsecondsPerSecond)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        let bc = year <= 0
        var text = pad(bc ? 1 - year : year, 4)
        text += "-" + pad(Int64(month), 2) + "-" + pad(Int64(day), 2)
        text += "T" + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":"
        text += pad(secondOfDay % 60, 2) + "." + pad(fraction, 6) + "Z"
        if bc { text += " BC" }
        return text
    }

    /// Parses ISO-style output: `2024-05-06 07:08:09.123456+00`, `…+05:30`, `…-08`, `…Z`, a
    /// `T` separator, no offset (timestamp, taken as UTC), a bare date, ` BC`, and ±infinity.
    static func parse(_ text: String) -> Date? {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(minDigits: 4, maxDigits: 9), scanner.skip("-"),
            let month = scanner.number(minDigits: 2, maxDigits: 2), (1...12).contains(month),
            scanner.skip("-"),
            let day = scanner.number(minDigits: 2, maxDigits: 2), (1...31).contains(day)
        else { return nil }

        var secondOfDay: Int64 = 0
        var fraction: Int64 = 0
        var offset: Int64 = 0
        if scanner.skip(" ") || scanner.skip("T") {
            if scanner.peek(isDigit: true) {
                guard let hour = scanner.number(minDigits: 2, maxDigits: 2), hour <= 24, scanner.skip(":"),
                    let minute = scanner.number(minDigits: 2, maxDigits: 2), minute < 60, scanner.skip(":"),
                    let second = scanner.number(minDigits: 2, maxDigits: 2), second <= 60
                else { return nil }
                secondOfDay = hour * 3600 + minute * 60 + second
                if scanner.skip(".") {
                    guard let digits = scanner.digits(), !digits.isEmpty else { return nil }
                    var scale: Int64 = 100_000
                    for digit in digits.prefix(6) {
                        fraction += Int64(digit) * scale
                        scale /= 10
                    }
                }
                if scanner.skip("Z") {
                    offset = 0
                } else if let sign = scanner.sign() {
                    guard let hours = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                    var seconds = hours * 3600
                    if scanner.skip(":") {
                        guard let minutes = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                        seconds += minutes * 60
                        if scanner.skip(":") {
                            guard let extra = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                            seconds += extra
                        }
                    } else if let minutes = scanner.number(minDigits: 2, maxDigits: 2) {
                        seconds += minutes * 60
                    }
                    offset = sign * seconds
                }
            } else {
                scanner.unskip()  // the space belongs to " BC"
            }
        }
        var astronomicalYear = year
        if scanner.skip(" BC") { astronomicalYear = 1 - year }
        guard scanner.isAtEnd else { return nil }

        let days = days(fromCivil: astronomicalYear, month: Int(month), day: Int(day))
        let seconds = days * 86_400 + secondOfDay - offset
        return date(microsecondsSince1970: seconds * microsecondsPerSecond + fraction)
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
    static func days(fromCivil year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var lastSkip = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var isAtEnd: Bool { index == bytes.count }

        func peek(isDigit: Bool) -> Bool {
            index < bytes.count && (bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9")) == isDigit
        }

        mutating func skip(_ literal: String) -> Bool {
            let expected = Array(literal.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected
            else { return false }
            lastSkip = expected.count
            index += expected.count
            return true
        }

        mutating func unskip() { index -= lastSkip }

        mutating func digits() -> [UInt8]? {
            var result: [UInt8] = []
            while peek(isDigit: true) {
                result.append(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return result
        }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int64? {
            let start = index
            var value: Int64 = 0
            while peek(isDigit: true), index - start < maxDigits {
                value = value * 10 + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return index - start >= minDigits ? value : nil
        }

        mutating func sign() -> Int64? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
