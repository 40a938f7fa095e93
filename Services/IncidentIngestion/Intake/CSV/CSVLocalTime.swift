import Contracts
import Foundation

/// A wall-clock time read from an export, before its time zone is applied.
struct CSVLocalTime: Sendable, Hashable {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0
    /// Fractional-second digits exactly as written (`"250"` for .250), empty when absent.
    var fraction = ""

    /// Whether every component is in range, the day included (leap years honoured).
    var isValid: Bool {
        (1...9999).contains(year) && (1...12).contains(month)
            && (1...Self.daysInMonth(year: year, month: month)).contains(day)
            && (0...23).contains(hour) && (0...59).contains(minute) && (0...59).contains(second)
    }

    /// Seconds since 1970-01-01T00:00 as though this wall time were UTC.
    var secondsAsIfUTC: Int64 {
        Int64(CivilDate.days(year: year, month: month, day: day)) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, fraction: String = "") {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.fraction = fraction
    }

    /// The wall time `seconds` after 1970-01-01T00:00 (the inverse of `secondsAsIfUTC`).
    init(secondsAsIfUTC seconds: Int64, fraction: String = "") {
        let days = Int((seconds - ((seconds % 86_400) + 86_400) % 86_400) / 86_400)
        let secondOfDay = Int(((seconds % 86_400) + 86_400) % 86_400)
        let date = CivilDate.date(days: days)
        self.init(
            year: date.year, month: date.month, day: date.day,
            hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60, second: secondOfDay % 60, fraction: fraction)
    }

    /// RFC 3339 with the given offset, e.g. `2025-03-14T01:20:00-04:00`.
    func rfc3339(offsetSeconds: Int) -> String {
        var text = "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))T"
        text += "\(Self.pad(hour, 2)):\(Self.pad(minute, 2)):\(Self.pad(second, 2))"
        if !fraction.isEmpty { text += ".\(fraction)" }
        let magnitude = abs(offsetSeconds)
        text += offsetSeconds < 0 ? "-" : "+"
        text += "\(Self.pad(magnitude / 3600, 2)):\(Self.pad(magnitude / 60 % 60, 2))"
        return text
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, after H. Hinnant's civil algorithms)

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
