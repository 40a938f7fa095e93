import Foundation
import NIOConcurrencyHelpers

/// A token bucket per source: `rate` incidents per second on average, bursts up to `burst`.
/// A request costs one token per incident; when the bucket cannot pay, the caller gets 429
/// with the seconds until it could.
public final class SourceRateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    public let rate: Double
    public let burst: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(burst, 1)
    }

    /// "5000/s (burst 20000)" or "0.01/s (burst 2)": the limit in words for error details.
    public var limitDescription: String {
        let perSecond = rate == rate.rounded() ? String(Int(rate)) : String(format: "%g", rate)
        return "\(perSecond)/s (burst \(Int(burst)))"
    }

    /// Takes `cost` tokens from `source`'s bucket; returns `nil` when allowed, else how long
    /// to wait before the same request could pass.
    public func take(_ cost: Int, for source: String, now: ContinuousClock.Instant = .now) -> Duration? {
        let cost = Double(cost)
        return buckets.withLockedValue { buckets in
            var bucket = buckets[source] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            defer { buckets[source] = bucket }
            guard bucket.tokens >= min(cost, burst) else {
                let deficit = min(cost, burst) - bucket.tokens
                return .milliseconds(Int64((deficit / rate * 1000).rounded(.up)))
            }
            bucket.tokens -= cost
            return nil
        }
    }
}
