import Contracts
import Foundation

/// RFC 3339 times on the intake's hot path, computed directly instead of through Foundation's
/// `ISO8601FormatStyle` (which cost more per record than everything else the validator does).
///
/// Both directions give exactly what `RFC3339.date(from:)` and `RFC3339.string(from:)` give:
/// the content hash of every stored incident depends on that text, so a resend must still be
/// recognised as unchanged. The tests compare the two on random instants and texts. Foundation's
/// own rules are kept: at most nine fractional digits and offsets of at most 18 hours are
/// accepted, and written milliseconds are truncated, not rounded. Outside the years 1583–9999
/// (Foundation's calendar turns Julian before the Gregorian reform) Foundation itself is asked.
enum RFC3339Timestamp {
    /// The instant of a text `RFC3339Syntax.check` found `.valid`, with `T` and `Z` in upper
    /// case (what `RFC3339.date(from:)` is given); `nil` where Foundation refuses it too.
    static func date(fromValid text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            guard let parts = Parts(bytes) else { return RFC3339.date(from: String(decoding: bytes, as: UTF8.self)) }
            guard parts.fractionDigits <= 9, abs(parts.offsetSeconds) <= 18 * 3600 else { return nil }
            guard parts.year >= 1583 else { return RFC3339.date(from: String(decoding: bytes, as: UTF8.self)) }
            let days = CivilDate.days(year: parts.year, month: parts.month, day: parts.day)
            let unix = days * 86_400 + parts.hour * 3600 + parts.minute * 60 + parts.second - parts.offsetSeconds
            return Date(timeIntervalSinceReferenceDate: Double(unix - referenceDateUnixTime) + Double(parts.nanoseconds) / 1e9)
        }
    }

    /// `RFC3339.string(from:)`: UTC, milliseconds, e.g. `2025-03-14T05:20:00.000Z`.
    static func string(from date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `string(from: date)` as UTF-8.
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        let interval = date.timeIntervalSinceReferenceDate
        guard interval >= earliestFastInterval, interval < latestFastInterval else {
            bytes.append(contentsOf: RFC3339.string(from: date).utf8)
            return
        }
        let seconds = interval.rounded(.down)
        let milliseconds = min(999, Int((interval - seconds) * 1000))
        let unix = Int(seconds) + referenceDateUnixTime
        let days = unix >= 0 ? unix / 86_400 : (unix - 86_399) / 86_400
        let secondOfDay = unix - days * 86_400
        let (year, month, day) = CivilDate.date(days: days)
        appendDigits(year, count: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 3600 / 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(milliseconds, count: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// 2001-01-01T00:00:00Z, Foundation's reference date, in Unix time.
    static let referenceDateUnixTime = 978_307_200
    static let earliestFastInterval = Double(CivilDate.days(year: 1583, month: 1, day: 1) * 86_400 - referenceDateUnixTime)
    static let latestFastInterval = Double(CivilDate.days(year: 10_000, month: 1, day: 1) * 86_400 - referenceDateUnixTime)

    private static func appendDigits(_ value: Int, count: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The fields of a syntactically valid date-time (`RFC3339Syntax`): fixed positions up to
    /// the seconds, then an optional fraction and the offset.
    private struct Parts {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0
        var fractionDigits = 0
        var nanoseconds = 0
        var offsetSeconds = 0

        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count >= 20 else { return nil }
            func number(_ start: Int, _ count: Int) -> Int {
                var value = 0
                for index in start..<(start + count) { value = value * 10 + Int(bytes[index] &- UInt8(ascii: "0")) }
                return value
            }
            year = number(0, 4)
            month = number(5, 2)
            day = number(8, 2)
            hour = number(11, 2)
            minute = number(14, 2)
            second = number(17, 2)
            var index = 19
            if bytes[index] == UInt8(ascii: ".") {
                index += 1
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                    if fractionDigits < 9 { nanoseconds = nanoseconds * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
                    fractionDigits += 1
                    index += 1
                }
                for _ in min(fractionDigits, 9)..<9 { nanoseconds *= 10 }
            }
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "Z"):
                guard index + 1 == bytes.count else { return nil }
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard index + 6 == bytes.count else { return nil }
                let offset = number(index + 1, 2) * 3600 + number(index + 4, 2) * 60
                offsetSeconds = bytes[index] == UInt8(ascii: "-") ? -offset : offset
            default:
                return nil
            }
        }
    }
}
