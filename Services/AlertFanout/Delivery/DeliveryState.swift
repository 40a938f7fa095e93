import Foundation

/// The life of one notification (persisted in `deliveries.state`):
///
///     pending ──▶ sending ──▶ delivered
///        │           │  └───▶ failed
///        │           └──────▶ retrying ──▶ sending …
///        └──▶ cancelled (incident closed) / suppressed (channel disabled or unavailable)
///
/// `sending` carries a lease: a process that dies mid-send leaves it to expire, and the
/// delivery is tried again with the same idempotency key (`webhook-id`).
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    case pending, sending, retrying, delivered, failed, cancelled, suppressed

    public var isTerminal: Bool {
        switch self {
        case .delivered, .failed, .cancelled, .suppressed: true
        case .pending, .sending, .retrying: false
        }
    }

    /// The states a delivery may come from to reach `state`: every UPDATE of the store is
    /// guarded with them, so a transition outside the diagram never happens.
    public static func sources(of state: DeliveryState) -> [String] {
        allCases.filter { $0.canMove(to: state) }.map(\.rawValue)
    }

    /// The transitions the diagram allows.
    public func canMove(to next: DeliveryState) -> Bool {
        switch (self, next) {
        case (.pending, .sending), (.retrying, .sending): true
        case (.sending, .delivered), (.sending, .failed), (.sending, .retrying), (.sending, .suppressed): true
        case (.pending, .cancelled), (.retrying, .cancelled), (.pending, .suppressed), (.retrying, .suppressed): true
        default: false
        }
    }
}
