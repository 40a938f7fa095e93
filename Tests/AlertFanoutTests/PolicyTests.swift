import Foundation
import Testing
@testable import AlertFanout

/// Delivery timing with a controllable clock: group_wait / group_interval, severity, quiet
/// hours across midnight and across daylight-saving changes, digests on the local clock.
@Suite("Delivery timing")
struct PolicyTests {
    let policy = DeliveryPolicy(groupWait: .seconds(30), groupInterval: .seconds(300), urgentSeverity: 4, digestHour: 8)
    static let london = TimeZone(identifier: "Europe/London")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    static func time(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    func due(_ now: String, severity: Int = 2, mode: Subscription.Mode = .immediate, quiet: (String, String)? = nil,
             zone: TimeZone = london, last: String? = nil) -> Date {
        policy.due(
            now: Self.time(now), severity: severity,
            preference: .init(mode: mode, quietHours: quiet.map { .init(start: $0.0, end: $0.1) }, timezone: zone),
            channelLastNotified: last.map(Self.time))
    }

    @Test("group_wait for a quiet channel, group_interval after a recent notification, at once when urgent")
    func grouping() {
        #expect(due("2025-06-10T12:00:00Z") == Self.time("2025-06-10T12:00:30Z"))
        #expect(due("2025-06-10T12:00:00Z", last: "2025-06-10T11:58:00Z") == Self.time("2025-06-10T12:03:00Z"))
        #expect(due("2025-06-10T12:00:00Z", last: "2025-06-10T11:50:00Z") == Self.time("2025-06-10T12:00:30Z"))
        #expect(due("2025-06-10T12:00:00Z", severity: 4, last: "2025-06-10T11:59:00Z") == Self.time("2025-06-10T12:00:00Z"))
    }

    @Test("quiet hours spanning midnight defer to their local end; severity 5 overrides")
    func quietHours() {
        // 23:30 BST (22:30Z) in quiet hours 22:00–07:00 → 07:00 BST next day (06:00Z).
        #expect(due("2025-06-10T22:30:00Z", quiet: ("22:00", "07:00")) == Self.time("2025-06-11T06:00:00Z"))
        // 03:00 BST → 07:00 BST the same day.
        #expect(due("2025-06-11T02:00:00Z", quiet: ("22:00", "07:00")) == Self.time("2025-06-11T06:00:00Z"))
        // Outside: only group_wait.
        #expect(due("2025-06-11T12:00:00Z", quiet: ("22:00", "07:00")) == Self.time("2025-06-11T12:00:30Z"))
        // A daytime window that does not span midnight.
        #expect(due("2025-06-11T12:00:00Z", quiet: ("12:00", "14:00")) == Self.time("2025-06-11T13:00:00Z"))
        #expect(due("2025-06-10T22:30:00Z", severity: 5, quiet: ("22:00", "07:00")) == Self.time("2025-06-10T22:30:00Z"))
        // Severity 4 is urgent (no group wait) but still respects quiet hours.
        #expect(due("2025-06-10T22:30:00Z", severity: 4, quiet: ("22:00", "07:00")) == Self.time("2025-06-11T06:00:00Z"))
    }

    @Test("quiet hours across daylight-saving changes keep local wall-clock time")
    func quietHoursAcrossDST() {
        // London springs forward on 2025-03-30 at 01:00 GMT (→ 02:00 BST). Quiet 22:00–07:00:
        // an alert at 23:00 GMT on the 29th waits until 07:00 BST on the 30th = 06:00Z.
        #expect(due("2025-03-29T23:00:00Z", quiet: ("22:00", "07:00")) == Self.time("2025-03-30T06:00:00Z"))
        // Falls back on 2025-10-26 at 02:00 BST (→ 01:00 GMT): 07:00 GMT = 07:00Z.
        #expect(due("2025-10-25T22:00:00Z", quiet: ("22:00", "07:00")) == Self.time("2025-10-26T07:00:00Z"))
        // New York: quiet ends at 02:30, a time that does not exist on 2025-03-09; the first instant after the gap.
        #expect(due("2025-03-09T06:00:00Z", quiet: ("00:00", "02:30"), zone: Self.newYork) == Self.time("2025-03-09T07:00:00Z"))
    }

    @Test("digests: the next local hour, the next local 08:00, across a daylight-saving change")
    func digests() {
        #expect(due("2025-06-10T12:10:00Z", mode: .digestHourly) == Self.time("2025-06-10T13:00:00Z"))
        #expect(due("2025-06-10T12:10:00Z", mode: .digestDaily) == Self.time("2025-06-11T07:00:00Z"))
        // Daily at 08:00 local across the spring change: 08:00 GMT on the 29th, 08:00 BST on the 30th.
        #expect(due("2025-03-28T09:00:00Z", mode: .digestDaily) == Self.time("2025-03-29T08:00:00Z"))
        #expect(due("2025-03-29T09:00:00Z", mode: .digestDaily) == Self.time("2025-03-30T07:00:00Z"))
        // India (UTC+5:30): the next full local hour is at :30 UTC.
        #expect(due("2025-06-10T12:10:00Z", mode: .digestHourly, zone: TimeZone(identifier: "Asia/Kolkata")!) == Self.time("2025-06-10T12:30:00Z"))
        // A digest landing in quiet hours waits for them to end.
        #expect(due("2025-06-10T12:10:00Z", mode: .digestDaily, quiet: ("07:30", "09:00")) == Self.time("2025-06-11T08:00:00Z"))
    }

    @Test("several subscriptions behind one notification: the earliest time wins")
    func earliest() {
        let preferences: [DeliveryPolicy.Preference] = [
            .init(mode: .digestDaily, quietHours: nil, timezone: Self.london),
            .init(mode: .immediate, quietHours: nil, timezone: Self.london),
        ]
        #expect(policy.due(now: Self.time("2025-06-10T12:00:00Z"), severity: 2, preferences: preferences, channelLastNotified: nil)
                == Self.time("2025-06-10T12:00:30Z"))
    }
}
