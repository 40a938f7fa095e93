import Contracts
import Foundation
import Testing

/// The byte-level RFC 3339 parser agrees with `RFC3339.date(from:)` (Foundation's ISO 8601
/// parser) on what it accepts and on the instant, and refuses what that one refuses.
@Suite("RFC 3339 from bytes")
struct RFC3339BytesTests {
    @Test("same instant as Foundation for offsets, fractions, leap days and far dates", arguments: [
        "2025-03-14T01:20:00-04:00", "2025-03-14T05:20:00Z", "2025-03-14T05:20:00.123Z", "2025-03-14T05:20:00.5+05:30",
        "2024-02-29T23:59:59Z", "1999-12-31T23:59:59.999-12:00", "2018-12-24T00:00:00+14:00", "1970-01-01T00:00:00Z",
        "1900-03-01T12:00:00Z", "2100-02-28T00:00:00+01:00", "2025-03-14T05:20:00.000001Z",
    ])
    func agrees(_ text: String) throws {
        let foundation = try #require(RFC3339.date(from: text))
        let ours = try #require(RFC3339Bytes.date(Array(text.utf8)))
        // Foundation keeps milliseconds; we keep what a Date can hold.
        #expect(abs(ours.timeIntervalSince1970 - foundation.timeIntervalSince1970) < 1e-3)
    }

    @Test("refuses times without offset and impossible dates", arguments: [
        "2025-03-14T01:20:00", "2025-03-14 01:20:00Z", "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-04-31T00:00:00Z",
        "2025-03-14T24:00:00Z", "2025-03-14T01:60:00Z", "2025-03-14T01:20:00.Z", "2025-03-14T01:20:00+0400", "2025-03-14T01:20:00Z ",
        "20250314T012000Z", "", "yesterday",
    ])
    func refuses(_ text: String) {
        #expect(RFC3339Bytes.date(Array(text.utf8)) == nil)
    }

    @Test("day numbers round-trip over four centuries")
    func civilDates() {
        for days in stride(from: -146_097, through: 146_097 * 2, by: 37) {
            let (year, month, day) = CivilDate.date(days: days)
            #expect(CivilDate.days(year: year, month: month, day: day) == days)
            #expect((1...CivilDate.daysInMonth(year: year, month: month)).contains(day))
        }
    }
}
