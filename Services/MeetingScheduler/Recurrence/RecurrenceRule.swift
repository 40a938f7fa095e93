import Foundation

/// The RFC 5545 RRULE subset the scheduler accepts: FREQ=WEEKLY or MONTHLY, INTERVAL, BYDAY
/// (with an ordinal such as 2TU or -1FR for MONTHLY), BYMONTHDAY, and COUNT or UNTIL (one of
/// them is required, so every occurrence can be checked and stored).
public struct RecurrenceRule: Sendable, Equatable {
    public enum Frequency: String, Sendable { case weekly = "WEEKLY", monthly = "MONTHLY" }

    public struct WeekdayRule: Sendable, Equatable {
        /// 1 = Monday … 7 = Sunday.
        public var weekday: Int
        /// For MONTHLY: the n-th (negative: from the end) such weekday of the month.
        public var ordinal: Int?
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// A series has at most this many occurrences.
    public static let maximumOccurrences = 200
    static let weekdayCodes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    public var frequency: Frequency
    public var interval: Int
    public var byDay: [WeekdayRule]
    public var byMonthDay: [Int]
    public var count: Int?
    public var until: Date?

    public init(parsing text: String) throws(ParseError) {
        var parts: [String: String] = [:]
        let body = text.hasPrefix("RRULE:") ? String(text.dropFirst(6)) : text
        for part in body.split(separator: ";", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[1].isEmpty else { throw ParseError(description: "'\(part)' is not NAME=VALUE") }
            let name = pair[0].uppercased()
            guard parts[name] == nil else { throw ParseError(description: "\(name) appears twice") }
            parts[name] = pair[1].uppercased()
        }
        for name in parts.keys where !["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"].contains(name) {
            throw ParseError(description: "\(name) is not supported (FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL are)")
        }
        guard let frequencyText = parts["FREQ"] else { throw ParseError(description: "FREQ is missing") }
        guard let frequency = Frequency(rawValue: frequencyText) else {
            throw ParseError(description: "FREQ=\(frequencyText) is not supported (WEEKLY or MONTHLY)")
        }
        self.frequency = frequency
        if let wkst = parts["WKST"], wkst != "MO" { throw ParseError(description: "WKST=\(wkst) is not supported (MO)") }
        interval = 1
        if let text = parts["INTERVAL"] {
            guard let value = Int(text), (1...52).contains(value) else { throw ParseError(description: "INTERVAL must be 1 to 52, not \(text)") }
            interval = value
        }
        byDay = []
        for item in (parts["BYDAY"] ?? "").split(separator: ",", omittingEmptySubsequences: false) where parts["BYDAY"] != nil {
            let code = String(item.suffix(2))
            guard let index = Self.weekdayCodes.firstIndex(of: code) else { throw ParseError(description: "BYDAY value \(item) is not a weekday (MO…SU)") }
            let prefix = item.dropLast(2)
            var ordinal: Int?
            if !prefix.isEmpty {
                guard frequency == .monthly, let value = Int(prefix.hasPrefix("+") ? String(prefix.dropFirst()) : String(prefix)),
                      value != 0, (-5...5).contains(value) else {
                    throw ParseError(description: "BYDAY value \(item): an ordinal (1 to 5 or -1 to -5) is only allowed with FREQ=MONTHLY")
                }
                ordinal = value
            }
            byDay.append(WeekdayRule(weekday: index + 1, ordinal: ordinal))
        }
        byMonthDay = []
        if let text = parts["BYMONTHDAY"] {
            guard frequency == .monthly else { throw ParseError(description: "BYMONTHDAY is only supported with FREQ=MONTHLY") }
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let value = Int(item), value != 0, (-31...31).contains(value) else {
                    throw ParseError(description: "BYMONTHDAY value \(item) must be 1 to 31 or -1 to -31")
                }
                byMonthDay.append(value)
            }
        }
        if !byDay.isEmpty && !byMonthDay.isEmpty { throw ParseError(description: "BYDAY and BYMONTHDAY together are not supported") }
        if let text = parts["COUNT"] {
            guard let value = Int(text), (1...Self.maximumOccurrences).contains(value) else {
                throw ParseError(description: "COUNT must be 1 to \(Self.maximumOccurrences), not \(text)")
            }
            count = value
        }
        if let text = parts["UNTIL"] {
            guard let date = Self.parseUntil(text) else {
                throw ParseError(description: "UNTIL=\(text) is not a UTC date-time (20250630T235959Z) or a date (20250630)")
            }
            until = date
        }
        if count != nil && until != nil { throw ParseError(description: "COUNT and UNTIL must not both be given") }
        if count == nil && until == nil { throw ParseError(description: "COUNT or UNTIL is required (at most \(Self.maximumOccurrences) occurrences)") }
    }

    /// The rule as written into calendars: UNTIL always in UTC, as RFC 5545 requires with a
    /// zoned DTSTART.
    public var canonical: String {
        var parts = ["FREQ=\(frequency.rawValue)"]
        if interval != 1 { parts.append("INTERVAL=\(interval)") }
        if !byDay.isEmpty {
            parts.append("BYDAY=" + byDay.map { ($0.ordinal.map(String.init) ?? "") + Self.weekdayCodes[$0.weekday - 1] }.joined(separator: ","))
        }
        if !byMonthDay.isEmpty { parts.append("BYMONTHDAY=" + byMonthDay.map(String.init).joined(separator: ",")) }
        if let count { parts.append("COUNT=\(count)") }
        if let until { parts.append("UNTIL=" + Self.utcStamp(until)) }
        return parts.joined(separator: ";")
    }

    /// Occurrence starts from `start` (itself the first if it matches the rule), at the same
    /// local wall-clock time in `timeZone`.
    public func occurrences(from start: Date, in timeZone: TimeZone, limit: Int = maximumOccurrences) throws(ParseError) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        let local = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: start)
        let startWeekday = (local.weekday! + 5) % 7 + 1
        var result: [Date] = []
        func emit(_ year: Int, _ month: Int, _ day: Int) -> Bool {
            var components = DateComponents(year: year, month: month, day: day, hour: local.hour, minute: local.minute, second: local.second)
            components.calendar = calendar
            guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return true }
            if date < start { return true }
            if let until, date > until { return false }
            result.append(date)
            return count.map { result.count < $0 } ?? (result.count < limit + 1)
        }
        switch frequency {
        case .weekly:
            let days = byDay.isEmpty ? [startWeekday] : byDay.map(\.weekday).sorted()
            guard let weekStart = calendar.date(byAdding: .day, value: 1 - startWeekday, to: calendar.startOfDay(for: start)) else { return [] }
            var period = 0
            periods: while period < 10_000 {
                guard let monday = calendar.date(byAdding: .day, value: period * 7 * interval, to: weekStart) else { break }
                for weekday in days {
                    guard let day = calendar.date(byAdding: .day, value: weekday - 1, to: monday) else { continue }
                    let parts = calendar.dateComponents([.year, .month, .day], from: day)
                    if !emit(parts.year!, parts.month!, parts.day!) { break periods }
                }
                period += 1
            }
        case .monthly:
            var period = 0
            periods: while period < 10_000 {
                let monthIndex = local.month! - 1 + period * interval
                let (year, month) = (local.year! + monthIndex / 12, monthIndex % 12 + 1)
                guard let first = calendar.date(from: DateComponents(year: year, month: month, day: 1)),
                      let length = calendar.range(of: .day, in: .month, for: first)?.count else { break }
                var days: [Int] = []
                if !byDay.isEmpty {
                    let firstWeekday = (calendar.component(.weekday, from: first) + 5) % 7 + 1
                    for rule in byDay {
                        let all = (1...length).filter { ($0 - 1 + firstWeekday - 1) % 7 + 1 == rule.weekday }
                        if let ordinal = rule.ordinal {
                            let index = ordinal > 0 ? ordinal - 1 : all.count + ordinal
                            if all.indices.contains(index) { days.append(all[index]) }
                        } else {
                            days += all
                        }
                    }
                } else if !byMonthDay.isEmpty {
                    days = byMonthDay.compactMap { $0 > 0 ? ($0 <= length ? $0 : nil) : (length + $0 + 1 >= 1 ? length + $0 + 1 : nil) }
                } else {
                    days = local.day! <= length ? [local.day!] : []
                }
                for day in Set(days).sorted() where !emit(year, month, day) { break periods }
                period += 1
            }
        }
        if count == nil && result.count > limit {
            throw ParseError(description: "UNTIL allows more than \(limit) occurrences")
        }
        return result
    }

    /// The local days inside `window` on which the rule (anchored at the window's first day)
    /// places an occurrence, as whole-day intervals: where a series may start. `nil` when the
    /// rule names no days (its first occurrence then decides the weekday or day of month).
    public func days(in window: Range<Date>, timeZone: TimeZone) -> IntervalSet? {
        guard !byDay.isEmpty || !byMonthDay.isEmpty else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var open = self
        open.count = nil
        open.until = window.upperBound
        let midnights = (try? open.occurrences(from: calendar.startOfDay(for: window.lowerBound), in: timeZone, limit: 10_000)) ?? []
        return IntervalSet(midnights.compactMap { midnight in
            calendar.date(byAdding: .day, value: 1, to: midnight).map { Int64(midnight.timeIntervalSince1970)..<Int64($0.timeIntervalSince1970) }
        })
    }

    static func parseUntil(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyyMMdd'T'HHmmss'Z'", "yyyyMMdd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                // A bare date includes that whole day.
                return format == "yyyyMMdd" ? date.addingTimeInterval(86_399) : date
            }
        }
        return nil
    }

    static func utcStamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
