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
