import Foundation

/// Event-time windows aligned to the coalition's time zone: local hours, local days, ISO
/// weeks (Monday start) and calendar months. Foundation's calendar does the daylight-saving
/// arithmetic, so a spring-forward day is 23 hours long and a fall-back day 25.
public struct WindowCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        self.calendar = calendar
    }

    /// The window of `granularity` that contains `date`.
    public func window(_ granularity: Granularity, containing date: Date) -> DateInterval {
        let component: Calendar.Component =
            switch granularity {
            case .hour: .hour
            case .day: .day
            case .week: .weekOfYear
            case .month: .month
            }
        // Every instant lies in exactly one local hour, day, week and month.
        return calendar.dateInterval(of: component, for: date)!
    }

    /// The start of the local day `days` days after the one containing `date` (negative:
    /// before); days are 23, 24 or 25 hours long around daylight-saving changes.
    public func startOfDay(_ date: Date, addingDays days: Int) -> Date {
        let start = calendar.startOfDay(for: date)
        return calendar.date(byAdding: .day, value: days, to: start).map { calendar.startOfDay(for: $0) } ?? start
    }

    /// The start of the local year containing `date`, shifted by `years`.
    public func startOfYear(_ date: Date, addingYears years: Int = 0) -> Date {
        let components = calendar.dateComponents([.year], from: date)
        var start = DateComponents()
        start.year = (components.year ?? 1970) + years
        start.month = 1
        start.day = 1
        return calendar.date(from: start) ?? date
    }

    /// The same local date `years` years away (29 February becomes 28 February).
    public func sameDay(_ date: Date, addingYears years: Int) -> Date {
        calendar.date(byAdding: .year, value: years, to: calendar.startOfDay(for: date)) ?? date
    }

    /// `yyyy-MM-dd` of the local day containing `date`.
    public func dayString(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}

/// Remembers windows per quarter hour of UTC: every time zone's offset is a multiple of 15
/// minutes, so all instants of one quarter hour share their windows. Bounded: it forgets
/// everything when full (a cache, never the source of truth).
struct WindowCache {
    let calendar: WindowCalendar
    let capacity: Int
    private var entries: [Int64: [DateInterval]] = [:]

    init(calendar: WindowCalendar, capacity: Int = 20_000) {
        self.calendar = calendar
        self.capacity = capacity
    }

    /// The windows containing `date`, in `Granularity.allCases` order.
    mutating func windows(containing date: Date) -> [DateInterval] {
        let quarter = Int64((date.timeIntervalSince1970 / 900).rounded(.down))
        if let cached = entries[quarter] { return cached }
        let windows = Granularity.allCases.map { calendar.window($0, containing: date) }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[quarter] = windows
        return windows
    }
}
