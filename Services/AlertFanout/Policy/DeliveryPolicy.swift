import Foundation

/// When a planned notification may go out (Alertmanager's timing where it applies):
///
/// - severity ≥ `urgentSeverity` (default 4): at once;
/// - otherwise the first notification to a quiet channel waits `groupWait` (so a burst becomes
///   one message), and a channel notified less than `groupInterval` ago waits for that;
/// - `digest_hourly` waits for the next full hour and `digest_daily` for the next `digestHour`
///   (08:00), both on the stakeholder's own clock (severity 5 does not wait for a digest);
/// - quiet hours (stakeholder's time zone, may span midnight) defer to their end, except
///   severity 5;
/// - `repeat_interval` has nothing to repeat here: an incident is notified once per channel
///   (plus escalations and a closure notice), so there is no still-firing alert to resend.
///
/// Pure: everything comes in as arguments, so tests drive it with any clock and time zone.
public struct DeliveryPolicy: Sendable, Equatable {
    public var groupWait: Duration
    public var groupInterval: Duration
    public var urgentSeverity: Int
    public var digestHour: Int

    public init(groupWait: Duration = .seconds(30), groupInterval: Duration = .seconds(300), urgentSeverity: Int = 4, digestHour: Int = 8) {
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.urgentSeverity = urgentSeverity
        self.digestHour = digestHour
    }

    /// What one subscription asks for.
    public struct Preference: Sendable, Equatable {
        public var mode: Subscription.Mode
        public var quietHours: Subscription.QuietHours?
        public var timezone: TimeZone

        public init(mode: Subscription.Mode, quietHours: Subscription.QuietHours?, timezone: TimeZone) {
            self.mode = mode
            self.quietHours = quietHours
            self.timezone = timezone
        }
    }

    /// The earliest time any of the subscriptions behind one notification allows.
    public func due(now: Date, severity: Int, preferences: [Preference], channelLastNotified: Date?) -> Date {
        preferences.map { due(now: now, severity: severity, preference: $0, channelLastNotified: channelLastNotified) }.min() ?? now
    }

    public func due(now: Date, severity: Int, preference: Preference, channelLastNotified: Date?) -> Date {
        var time: Date
        // Severity 5 does not wait for a digest either (nor for quiet hours, below).
        let mode = severity >= 5 ? Subscription.Mode.immediate : preference.mode
        switch mode {
        case .immediate:
            if severity >= urgentSeverity {
                time = now
            } else if let last = channelLastNotified, now.timeIntervalSince(last) < Self.seconds(groupInterval) {
                time = last.addingTimeInterval(Self.seconds(groupInterval))
            } else {
                time = now.addingTimeInterval(Self.seconds(groupWait))
            }
        case .digestHourly:
            time = Self.nextLocal(after: now, in: preference.timezone) { calendar, date in
                calendar.nextDate(after: date, matching: DateComponents(minute: 0, second: 0), matchingPolicy: .nextTime)
            }
        case .digestDaily:
            time = Self.nextLocal(after: now, in: preference.timezone) { calendar, date in
                calendar.nextDate(after: date, matching: DateComponents(hour: digestHour, minute: 0, second: 0), matchingPolicy: .nextTime)
            }
        }
        if severity < 5, let quiet = preference.quietHours, let end = Self.endOfQuietHours(containing: time, quiet: quiet, in: preference.timezone) {
            time = end
        }
        return time
    }

    /// When `time` falls in the quiet hours, the local time they end; `nil` outside them.
    /// A spring-forward gap skipping the end time moves it to the first valid instant after.
    static func endOfQuietHours(containing time: Date, quiet: Subscription.QuietHours, in zone: TimeZone) -> Date? {
        guard let start = LocalTimeOfDay(quiet.start), let end = LocalTimeOfDay(quiet.end) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: time)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let inside = start.minutes < end.minutes
            ? (start.minutes..<end.minutes).contains(minute)
            : minute >= start.minutes || minute < end.minutes
        guard inside else { return nil }
        return calendar.nextDate(
            after: time, matching: DateComponents(hour: end.minutes / 60, minute: end.minutes % 60, second: 0), matchingPolicy: .nextTime)
    }

    static func nextLocal(after date: Date, in zone: TimeZone, _ next: (Calendar, Date) -> Date?) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return next(calendar, date) ?? date
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
