import Foundation
import Testing
@testable import MetricsAggregator

@Suite("Event-time windows in the coalition's time zone")
struct WindowCalendarTests {
    let newYork = WindowCalendar(timeZone: TimeZone(identifier: "America/New_York")!)

    func date(_ text: String) -> Date { try! Date.ISO8601FormatStyle().parse(text) }

    @Test("the spring-forward day is 23 hours, the fall-back day 25, ordinary days 24")
    func daylightSaving() {
        let spring = newYork.window(.day, containing: date("2025-03-09T12:00:00Z"))
        #expect(spring.start == date("2025-03-09T05:00:00Z"))
        #expect(spring.duration == 23 * 3600)
        let fall = newYork.window(.day, containing: date("2025-11-02T12:00:00Z"))
        #expect(fall.start == date("2025-11-02T04:00:00Z"))
        #expect(fall.duration == 25 * 3600)
        #expect(newYork.window(.day, containing: date("2025-03-14T03:59:59Z")).start == date("2025-03-13T04:00:00Z"))
        #expect(newYork.window(.day, containing: date("2025-03-14T04:00:00Z")).start == date("2025-03-14T04:00:00Z"))
    }

    @Test("the repeated hour of the fall-back night is two distinct one-hour windows")
    func repeatedHour() {
        let first = newYork.window(.hour, containing: date("2025-11-02T05:30:00Z"))   // 01:30 EDT
        let second = newYork.window(.hour, containing: date("2025-11-02T06:30:00Z"))  // 01:30 EST
        #expect(first.start == date("2025-11-02T05:00:00Z") && first.duration == 3600)
        #expect(second.start == date("2025-11-02T06:00:00Z") && second.duration == 3600)
    }

    @Test("ISO weeks start on Monday; months are calendar months")
    func weeksAndMonths() {
        // 2025-03-09 is a Sunday: its ISO week began on Monday 2025-03-03.
        let week = newYork.window(.week, containing: date("2025-03-09T12:00:00Z"))
        #expect(week.start == date("2025-03-03T05:00:00Z"))
        #expect(week.end == date("2025-03-10T04:00:00Z"))  // 7 days minus the lost hour
        let month = newYork.window(.month, containing: date("2025-03-31T23:00:00Z"))
        #expect(month.start == date("2025-03-01T05:00:00Z") && month.end == date("2025-04-01T04:00:00Z"))
        let utc = WindowCalendar(timeZone: TimeZone(identifier: "UTC")!)
        #expect(utc.window(.week, containing: date("2021-01-01T00:00:00Z")).start == date("2020-12-28T00:00:00Z"))
    }

    @Test("the quarter-hour cache gives what the calendar gives, including in a half-hour-offset zone")
    func cacheAgrees() {
        for zone in ["Asia/Kolkata", "Asia/Kathmandu", "America/New_York", "Australia/Lord_Howe"] {
            let calendar = WindowCalendar(timeZone: TimeZone(identifier: zone)!)
            var cache = WindowCache(calendar: calendar, capacity: 50)
            var random = SystemRandomNumberGenerator()
            for _ in 0..<2000 {
                let instant = date("2025-01-01T00:00:00Z").addingTimeInterval(Double(random.next(upperBound: UInt64(366 * 86_400))))
                #expect(cache.windows(containing: instant) == Granularity.allCases.map { calendar.window($0, containing: instant) }, "\(zone) \(instant)")
            }
        }
    }
}
