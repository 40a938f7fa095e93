import Foundation

/// How an emergency meeting is called for a hotspot episode (SPEC §7).
public struct EmergencyPolicy: Sendable {
    /// An area with a meeting this soon needs no emergency meeting.
    public var quietPeriod: Duration = .seconds(7 * 86_400)
    /// The meeting starts within this long of the episode being handled.
    public var within: Duration = .seconds(72 * 3600)
    /// Notice given before the earliest start.
    public var notice: Duration = .seconds(3600)
    public var duration: Duration = .seconds(3600)
    public var timeZone: TimeZone

    public init(timeZone: TimeZone, notice: Duration = .seconds(3600), duration: Duration = .seconds(3600)) {
        self.timeZone = timeZone
        self.notice = notice
        self.duration = duration
    }
}

/// What became of one hotspot episode start.
public enum EmergencyOutcome: Sendable, Equatable {
    case scheduled(UUID)
    /// The area already has a meeting within the quiet period.
    case notNeeded
    case unschedulable(String)
    /// Seen before (redelivery, replay, restart): nothing changes.
    case alreadyHandled
}
