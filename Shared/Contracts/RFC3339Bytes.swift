import Foundation

/// RFC 3339 `date-time` straight from UTF-8 bytes (`2025-03-14T01:20:00-04:00`,
/// `2025-03-14T05:20:00.123Z`), for hot paths where `RFC3339.date(from:)` (Foundation's
/// ISO 8601 parser) costs more than the rest of the record. Same acceptance: an explicit
/// offset is required, fractional seconds are optional.
public enum RFC3339Bytes {
    public static func date(_ text: some Collection<UInt8>) -> Date? {
        let bytes = Array(text)
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"), let month = number(5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = number(8, 2), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"), let minute = number(14, 2), bytes[16] == UInt8(ascii: ":"),
              let second = number(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month), hour < 24, minute < 60, second < 60 else {
            return nil
        }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            var value = 0
            var scale = 1.0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                // Beyond nanoseconds digits cannot change a Date.
                if digits < 9 {
                    value = value * 10 + Int(bytes[index] - 0x30)
                    scale *= 10
                }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            fraction = Double(value) / scale
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, let offsetHours = number(index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                  let offsetMinutes = number(index + 4, 2), offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let days = CivilDate.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
