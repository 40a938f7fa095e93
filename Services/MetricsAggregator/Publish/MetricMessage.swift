import Contracts
import Foundation
import ServiceKit

/// `coalition.metric.v1` (docs/asyncapi.yaml, `MetricV1`): one window of one metric, re-sent
/// under the same key with a higher `revision` whenever its value changes.
public struct MetricMessage: Codable, Sendable, Equatable {
    public var metric: String
    public var granularity: Granularity
    public var windowStart: Date
    public var windowEnd: Date
    public var dimensions: [String: String]
    public var values: [String: Double?]
    public var revision: Int64
    /// The grace period (event time) has passed: the window is not expected to change.
    public var final: Bool
    /// A count withheld from public outputs (sensitive category below `k`).
    public var suppressed: Bool?
    public var computedAt: Date

    public static let source = "/coalition/metrics-aggregator"

    /// The outbox event: keyed by window and dimensions, `ce_id` unique per revision.
    func outboxEvent(topic: Topic, key: String) throws -> OutboxEvent {
        let event = try CloudEvent(
            id: "\(key)#\(revision)", source: Self.source, type: EventType.metric, time: computedAt, subject: key, payload: self)
        return OutboxEvent(topic: topic, key: key, event: event)
    }
}

/// Public outputs of incident counts (SPEC §6): a sensitive category's count below `k` is
/// withheld. Zero is not withheld: it reveals no incident.
public struct SuppressionRule: Sendable {
    public var k: Int
    public init(k: Int) { self.k = k }

    public func withholds(count: Int64, sensitive: Bool) -> Bool {
        sensitive && count > 0 && count < Int64(k)
    }

    static let sensitiveCategories: Set<String> = Set(IncidentCategory.allCases.filter(\.isSensitive).map(\.rawValue))

    static func isSensitive(_ dimensions: MetricDimensions) -> Bool {
        sensitiveCategories.contains(dimensions.category)
    }
}
