import Foundation

/// When to try again: exponential backoff with full jitter (a random delay between zero and
/// `initial × 2^(attempt−1)`, capped at `maximum`), a server's `Retry-After` when it gives one,
/// and `failed` once the next attempt would fall later than `giveUpAfter` from the first.
public struct RetrySchedule: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var giveUpAfter: Duration

    public init(initial: Duration = .seconds(5), maximum: Duration = .seconds(3600), giveUpAfter: Duration = .seconds(24 * 3600)) {
        self.initial = initial
        self.maximum = maximum
        self.giveUpAfter = giveUpAfter
    }

    /// The ceiling of the random delay after attempt number `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Double {
        let base = Self.seconds(initial) * pow(2, Double(max(0, min(attempt - 1, 40))))
        return min(base, Self.seconds(maximum))
    }

    /// The next attempt's time, or `nil` when the delivery should fail instead.
    public func nextAttempt(
        afterAttempt attempt: Int, firstCreated: Date, now: Date, retryAfter: Double?,
        random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) -> Date? {
        let delay = retryAfter.map { max(0, $0) } ?? random(0...ceiling(afterAttempt: attempt))
        let next = now.addingTimeInterval(delay)
        return next.timeIntervalSince(firstCreated) > Self.seconds(giveUpAfter) ? nil : next
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
