import Contracts
import Foundation
import Testing

@testable import IncidentIngestion

@Suite("CSV time patterns and time zones")
struct CSVTimeTests {
    static let newYork = TimeZone(identifier: "America/New_York")!
    static let losAngeles = TimeZone(identifier: "America/Los_Angeles")!

    static func rfc3339(_ text: String, _ pattern: String, _ zone: TimeZone, _ policy: CSVDaylightSavingPolicy = .init()) throws
        -> Result<String, CSVLocalTime.ZoneProblem>?
    {
        switch try CSVTimeFormat(pattern).read(text) {
        case .local(let time): return time.rfc3339(in: zone, policy: policy)
        case .absolute(let text): return .success(text)
        case nil: return nil
        }
    }

    @Test("the three export patterns read as their cities' wall time")
    func exportPatterns() throws {
        #expect(try Self.rfc3339("3/14/2025 1:20", "M/d/yyyy H:mm", Self.newYork) == .success("2025-03-14T01:20:00-04:00"))
        #expect(try Self.rfc3339("12/31/2024 23:59", "M/d/yyyy H:mm", Self.newYork) == .success("2024-12-31T23:59:00-05:00"))
        #expect(
            try Self.rfc3339("2018/12/01 12:25:00 AM", "yyyy/MM/dd hh:mm:ss a", Self.losAngeles) == .success("2018-12-01T00:25:00-08:00"))
        #expect(
            try Self.rfc3339("2018/12/01 12:25:00 PM", "yyyy/MM/dd hh:mm:ss a", Self.losAngeles) == .success("2018-12-01T12:25:00-08:00"))
        #expect(
            try Self.rfc3339("2018/12/01 01:50:00 pm", "yyyy/MM/dd hh:mm:ss a", Self.losAngeles) == .success("2018-12-01T13:50:00-08:00"))
        #expect(
            try Self.rfc3339("03/25/2016 11:58:30 PM", "MM/dd/yyyy hh:mm:ss a", Self.losAngeles) == .success("2016-03-25T23:58:30-07:00"))
    }

    @Test("New York: 3/8/2025 3:30 is EST, 3/9/2025 3:30 is EDT, 2:30 on 3/9 does not exist")
    func springForward() throws {
        let pattern = "M/d/yyyy H:mm"
        #expect(try Self.rfc3339("3/8/2025 3:30", pattern, Self.newYork) == .success("2025-03-08T03:30:00-05:00"))
        #expect(try Self.rfc3339("3/9/2025 1:59", pattern, Self.newYork) == .success("2025-03-09T01:59:00-05:00"))
        #expect(try Self.rfc3339("3/9/2025 3:30", pattern, Self.newYork) == .success("2025-03-09T03:30:00-04:00"))
        #expect(try Self.rfc3339("3/9/2025 2:30", pattern, Self.newYork) == .failure(.nonexistent))
        #expect(try Self.rfc3339("3/9/2025 2:00", pattern, Self.newYork) == .failure(.nonexistent))
        let shift = CSVDaylightSavingPolicy(nonexistent: .shiftForward)
        #expect(try Self.rfc3339("3/9/2025 2:30", pattern, Self.newYork, shift) == .success("2025-03-09T03:30:00-04:00"))
    }

    @Test("New York: 1:30 on 11/2/2025 happens twice; the policy picks or refuses")
    func fallBack() throws {
        let pattern = "M/d/yyyy H:mm"
        #expect(try Self.rfc3339("11/2/2025 0:59", pattern, Self.newYork) == .success("2025-11-02T00:59:00-04:00"))
        #expect(try Self.rfc3339("11/2/2025 1:30", pattern, Self.newYork) == .success("2025-11-02T01:30:00-04:00"))
        #expect(
            try Self.rfc3339("11/2/2025 1:30", pattern, Self.newYork, .init(ambiguous: .later)) == .success("2025-11-02T01:30:00-05:00"))
        #expect(try Self.rfc3339("11/2/2025 1:30", pattern, Self.newYork, .init(ambiguous: .reject)) == .failure(.ambiguous))
        #expect(try Self.rfc3339("11/2/2025 2:00", pattern, Self.newYork) == .success("2025-11-02T02:00:00-05:00"))
    }

    @Test("a zone without daylight saving, and one east of Greenwich")
    func otherZones() throws {
        let pattern = "yyyy-MM-dd HH:mm:ss"
        #expect(try Self.rfc3339("2025-07-01 12:00:00", pattern, TimeZone(identifier: "Asia/Kolkata")!) == .success("2025-07-01T12:00:00+05:30"))
        #expect(try Self.rfc3339("2025-07-01 12:00:00", pattern, TimeZone(identifier: "UTC")!) == .success("2025-07-01T12:00:00+00:00"))
        #expect(try Self.rfc3339("2025-03-30 02:30:00", pattern, TimeZone(identifier: "Europe/Berlin")!) == .failure(.nonexistent))
        #expect(try Self.rfc3339("2025-10-26 02:30:00", pattern, TimeZone(identifier: "Europe/Berlin")!) == .success("2025-10-26T02:30:00+02:00"))
    }

    @Test("fractional seconds, quoted literals and rfc3339 pass-through")
    func fractionsLiteralsAndRFC3339() throws {
        #expect(
            try Self.rfc3339("2025-01-02T03:04:05.250", "yyyy-MM-dd'T'HH:mm:ss.SSS", Self.newYork)
                == .success("2025-01-02T03:04:05.250-05:00"))
        #expect(try Self.rfc3339("2025-01-02 at 3h", "yyyy-MM-dd 'at' H'h'", Self.newYork) == .success("2025-01-02T03:00:00-05:00"))
        #expect(try Self.rfc3339("2025/01/02", "yyyy/MM/dd", Self.newYork) == .success("2025-01-02T00:00:00-05:00"))
        #expect(
            try Self.rfc3339("2025-03-14T01:20:00-04:00", "rfc3339", Self.losAngeles) == .success("2025-03-14T01:20:00-04:00"))
        #expect(try Self.rfc3339("2025-03-14T05:20:00Z", "rfc3339", Self.losAngeles) == .success("2025-03-14T05:20:00Z"))
        #expect(try Self.rfc3339("2025-03-14T01:20:00", "rfc3339", Self.losAngeles) == nil)
    }

    @Test(
        "text that does not match, or names no real date, is refused",
        arguments: [
            ("13/1/2025 1:00", "M/d/yyyy H:mm"), ("2/29/2025 1:00", "M/d/yyyy H:mm"), ("4/31/2025 1:00", "M/d/yyyy H:mm"),
            ("3/14/2025 24:00", "M/d/yyyy H:mm"), ("3/14/2025 1:60", "M/d/yyyy H:mm"), ("3/14/2025", "M/d/yyyy H:mm"),
            ("3/14/2025 1:20 ", "M/d/yyyy H:mm"), (" 3/14/2025 1:20", "M/d/yyyy H:mm"), ("3/14/25 1:20", "M/d/yyyy H:mm"),
            ("3/14/2025 1:20", "MM/dd/yyyy H:mm"), ("2018/12/01 13:00:00 PM", "yyyy/MM/dd hh:mm:ss a"),
            ("2018/12/01 00:10:00 AM", "yyyy/MM/dd hh:mm:ss a"), ("2018/12/01 01:10:00 XM", "yyyy/MM/dd hh:mm:ss a"),
            ("2018/12/01 01:10:00", "yyyy/MM/dd hh:mm:ss a"), ("", "M/d/yyyy H:mm"), ("2025-01-02T03:04:05.25", "yyyy-MM-dd'T'HH:mm:ss.SSS"),
        ])
    func refused(text: String, pattern: String) throws {
        #expect(try CSVTimeFormat(pattern).read(text) == nil)
    }

    @Test("a leap day exists in 2024 only")
    func leapDay() throws {
        #expect(try Self.rfc3339("2/29/2024 12:00", "M/d/yyyy H:mm", Self.newYork) == .success("2024-02-29T12:00:00-05:00"))
        #expect(try Self.rfc3339("2/29/2000 12:00", "M/d/yyyy H:mm", Self.newYork) == .success("2000-02-29T12:00:00-05:00"))
        #expect(try CSVTimeFormat("M/d/yyyy H:mm").read("2/29/1900 12:00") == nil)
    }

    @Test(
        "patterns that cannot be read unambiguously are refused when the mapping loads",
        arguments: ["M/d/yy H:mm", "MMM d yyyy", "M/d/yyyy h:mm", "M/d/yyyy H:mm a", "M/d/yyyy H:mm:ss z", "M/d/yyyy 'T", "d/M/yyyy d", "M/yyyy"])
    func badPatterns(pattern: String) {
        #expect(throws: CSVTimeFormat.PatternError.self) { try CSVTimeFormat(pattern) }
    }

    @Test("civil-date arithmetic round-trips across centuries")
    func civilArithmetic() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let date = CivilDate.date(days: days)
            #expect(CivilDate.days(year: date.year, month: date.month, day: date.day) == days)
        }
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CSVLocalTime(year: 2025, month: 3, day: 14, hour: 1, minute: 20).secondsAsIfUTC == 1_741_915_200)
    }
}
