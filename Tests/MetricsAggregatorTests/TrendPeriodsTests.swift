import Foundation
import Testing
@testable import MetricsAggregator

/// The periods `GET /v1/trends` compares, in the coalition's time zone.
@Suite("Trend periods")
struct TrendPeriodsTests {
    static func local(_ text: String, _ zone: String) -> Date {
        var style = Date.ISO8601FormatStyle()
        style.timeZone = TimeZone(identifier: zone)!
        return try! style.parse(text)
    }

    @Test("7 and 28 local days up to the reference day, across a daylight-saving change, and the year to date against last year's")
    func periods() {
        let zone = "America/New_York"
        let calendar = WindowCalendar(timeZone: TimeZone(identifier: zone)!)
        // 12 March 2025: three days after the spring-forward (9 March).
        let periods = Trends.periods(at: Self.local("2025-03-12T15:00:00-04:00", zone), calendar: calendar)
        let (week, weekBefore) = periods[0]
        #expect(week.lowerBound == Self.local("2025-03-06T00:00:00-05:00", zone))
        #expect(week.upperBound == Self.local("2025-03-13T00:00:00-04:00", zone))
        #expect(week.upperBound.timeIntervalSince(week.lowerBound) == 7 * 86_400 - 3600, "the week holds the 23-hour day")
        #expect(weekBefore.upperBound == week.lowerBound)
        #expect(weekBefore.lowerBound == Self.local("2025-02-27T00:00:00-05:00", zone))
        let (days28, days28Before) = periods[1]
        #expect(days28.lowerBound == Self.local("2025-02-13T00:00:00-05:00", zone))
        #expect(days28Before.lowerBound == Self.local("2025-01-16T00:00:00-05:00", zone) && days28Before.upperBound == days28.lowerBound)
        let (year, yearBefore) = periods[2]
        #expect(year.lowerBound == Self.local("2025-01-01T00:00:00-05:00", zone) && year.upperBound == week.upperBound)
        #expect(yearBefore.lowerBound == Self.local("2024-01-01T00:00:00-05:00", zone))
        #expect(yearBefore.upperBound == Self.local("2024-03-13T00:00:00-04:00", zone))
    }

    @Test("29 February compares with 28 February a year before")
    func leapDay() {
        let calendar = WindowCalendar(timeZone: TimeZone(identifier: "UTC")!)
        let periods = Trends.periods(at: Self.local("2024-02-29T10:00:00Z", "UTC"), calendar: calendar)
        #expect(periods[2].previous.upperBound == Self.local("2023-03-01T00:00:00Z", "UTC"))
        #expect(calendar.dayString(Self.local("2024-02-29T10:00:00Z", "UTC")) == "2024-02-29")
    }
}
