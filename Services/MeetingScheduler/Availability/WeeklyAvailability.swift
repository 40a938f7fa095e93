import Foundation

/// Recurring local-time windows (ISO weekday, minutes after midnight) in someone's own time
/// zone, turned into absolute free intervals. Each day is converted on its own through the
/// calendar, so a window "Tue 18:00–21:00" stays 18:00 local on both sides of a daylight-saving
/// change.
public struct WeeklyAvailability: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        /// 1 = Monday … 7 = Sunday.
        public var weekday: Int
        public var startMinute: Int
        /// Up to 1440 (midnight at the end of the day).
        public var endMinute: Int

        public init(weekday: Int, startMinute: Int, endMinute: Int) {
            self.weekday = weekday
            self.startMinute = startMinute
            self.endMinute = endMinute
        }
    }

    public var timeZone: TimeZone
    /// Empty: available at any time.
    public var windows: [Window]

    public init(timeZone: TimeZone, windows: [Window]) {
        self.timeZone = timeZone
        self.windows = windows
    }

    /// The free intervals inside `range` (seconds since 1970).
    public func free(in range: Range<Int64>) -> IntervalSet {
        guard !windows.isEmpty else { return .everything(range) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let from = Date(timeIntervalSince1970: TimeInterval(range.lowerBound))
        let to = Date(timeIntervalSince1970: TimeInterval(range.upperBound))
        guard var day = calendar.date(byAdding: .day, value: -1, to: calendar.startOfDay(for: from)) else { return IntervalSet() }
        var intervals: [Range<Int64>] = []
        while day < to {
            let weekday = (calendar.component(.weekday, from: day) + 5) % 7 + 1
            let date = calendar.dateComponents([.year, .month, .day], from: day)
            for window in windows where window.weekday == weekday {
                if let start = Self.instant(date, minute: window.startMinute, calendar),
                   let end = Self.instant(date, minute: window.endMinute, calendar), start < end {
                    let (lower, upper) = (max(start, range.lowerBound), min(end, range.upperBound))
                    if lower < upper { intervals.append(lower..<upper) }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return IntervalSet(intervals)
    }

    /// Local date + minute of day as an instant; 1440 is the next day's midnight.
    static func instant(_ date: DateComponents, minute: Int, _ calendar: Calendar) -> Int64? {
        var components = date
        components.hour = minute / 60
        components.minute = minute % 60
        if minute >= 1440 {
            components.hour = 0
            components.minute = 0
            guard let midnight = calendar.date(from: components), let next = calendar.date(byAdding: .day, value: 1, to: midnight) else { return nil }
            return Int64(next.timeIntervalSince1970)
        }
        guard let instant = calendar.date(from: components) else { return nil }
        return Int64(instant.timeIntervalSince1970)
    }
}
