import Foundation
import Testing
@testable import MeetingScheduler

/// RRULE subset parsing and expansion, and local times across daylight-saving changes.
@Suite("Recurrence and time zones")
struct RecurrenceTests {
    let newYork = TimeZone(identifier: "America/New_York")!

    func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("a weekly 18:00 meeting stays at 18:00 local across the November change")
    func weeklyAcrossDST() throws {
        let rule = try RecurrenceRule(parsing: "FREQ=WEEKLY;BYDAY=TU;COUNT=4")
        let starts = try rule.occurrences(from: date("2025-10-21T22:00:00Z"), in: newYork)
        #expect(starts == ["2025-10-21T22:00:00Z", "2025-10-28T22:00:00Z", "2025-11-04T23:00:00Z", "2025-11-11T23:00:00Z"].map(date))
    }

    @Test("monthly by ordinal weekday and by month day, INTERVAL and UNTIL")
    func monthly() throws {
        let second = try RecurrenceRule(parsing: "FREQ=MONTHLY;BYDAY=2TU;COUNT=3")
        #expect(try second.occurrences(from: date("2025-01-14T23:00:00Z"), in: newYork)
            == ["2025-01-14T23:00:00Z", "2025-02-11T23:00:00Z", "2025-03-11T22:00:00Z"].map(date))
        let last = try RecurrenceRule(parsing: "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1;UNTIL=20250630")
        #expect(try last.occurrences(from: date("2025-01-31T15:00:00Z"), in: .gmt)
            == ["2025-01-31T15:00:00Z", "2025-03-31T15:00:00Z", "2025-05-31T15:00:00Z"].map(date))
        #expect(last.canonical == "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=-1;UNTIL=20250630T235959Z")
    }

    @Test("invalid rule parts are refused with the reason", arguments: [
        ("FREQ=DAILY;COUNT=3", "FREQ=DAILY is not supported (WEEKLY or MONTHLY)"),
        ("FREQ=WEEKLY;BYDAY=XX;COUNT=3", "BYDAY value XX is not a weekday (MO…SU)"),
        ("FREQ=WEEKLY;BYHOUR=3;COUNT=3", "BYHOUR is not supported (FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL are)"),
        ("FREQ=WEEKLY", "COUNT or UNTIL is required (at most 200 occurrences)"),
        ("FREQ=WEEKLY;BYMONTHDAY=3;COUNT=2", "BYMONTHDAY is only supported with FREQ=MONTHLY"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT must be 1 to 200, not 0"),
    ])
    func invalid(rule: String, reason: String) {
        #expect(throws: RecurrenceRule.ParseError(description: reason)) { try RecurrenceRule(parsing: rule) }
    }

    @Test("weekly availability windows are local: 18:00–21:00 is 22:00Z in October and 23:00Z in November")
    func availabilityAcrossDST() {
        let weekly = WeeklyAvailability(timeZone: newYork, windows: [.init(weekday: 2, startMinute: 18 * 60, endMinute: 21 * 60)])
        let from = Int64(date("2025-10-26T00:00:00Z").timeIntervalSince1970), to = Int64(date("2025-11-09T00:00:00Z").timeIntervalSince1970)
        let free = weekly.free(in: from..<to)
        let expected = [("2025-10-28T22:00:00Z", "2025-10-29T01:00:00Z"), ("2025-11-04T23:00:00Z", "2025-11-05T02:00:00Z")].map {
            Int64(date($0.0).timeIntervalSince1970)..<Int64(date($0.1).timeIntervalSince1970)
        }
        #expect(free.intervals == expected)
    }

    @Test("ICS lines are folded at 75 octets without splitting a character, with CRLF")
    func folding() {
        let line = "SUMMARY:" + String(repeating: "é", count: 60)
        let folded = ICSWriter.fold(line)
        for piece in folded.components(separatedBy: "\r\n") { #expect(piece.utf8.count <= 75) }
        #expect(folded.replacingOccurrences(of: "\r\n ", with: "") == line)
        #expect(ICSWriter.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne")
    }
}
