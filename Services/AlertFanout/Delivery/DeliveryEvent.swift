import Contracts
import Foundation
import ServiceKit

/// `coalition.alert.delivery.v1` on `alerts.delivered`: the terminal state of one delivery.
/// Key and `ce_id` are the delivery id (the idempotency key), so a consumer deduplicates on it.
public struct DeliveryOutcome: Codable, Sendable, Equatable {
    @LowercaseUUID public var deliveryId: UUID
    public var incidentId: String?
    public var revision: Int?
    public var reason: String
    @LowercaseUUID public var stakeholderId: UUID
    public var role: StakeholderRole
    @LowercaseUUID public var channelId: UUID
    public var channel: ChannelType
    public var severity: Int
    public var outcome: DeliveryState
    public var attempts: Int
    public var lastStatus: Int?
    public var error: String?
    public var ingestedAt: Date?
    public var createdAt: Date
    public var finishedAt: Date
    /// From the incident's `ingested_at` to the final state, when known.
    public var latencyMs: Int?

    static let eventSource = "/coalition/alert-fanout"

    var outboxEvent: OutboxEvent {
        get throws {
            let key = deliveryId.uuidString.lowercased()
            return OutboxEvent(topic: .alertsDelivered, key: key, event: try CloudEvent(
                id: key, source: Self.eventSource, type: EventType.alertDelivery, time: finishedAt, subject: incidentId,
                payload: self))
        }
    }
}

/// `coalition.alert.endpoint-disabled.v1`: tells the operator (and dashboards) a channel stopped.
struct EndpointDisabled: Codable, Sendable {
    @LowercaseUUID var channelId: UUID
    @LowercaseUUID var stakeholderId: UUID
    var reason: String
    var disabledAt: Date

    var outboxEvent: OutboxEvent {
        get throws {
            OutboxEvent(topic: .alertsDelivered, key: channelId.uuidString.lowercased(), event: try CloudEvent(
                id: UUID().uuidString.lowercased(), source: DeliveryOutcome.eventSource, type: EventType.alertEndpointDisabled,
                time: disabledAt, subject: channelId.uuidString.lowercased(), payload: self))
        }
    }
}

/// One delivery as operators see it (`GET /v1/deliveries`).
public struct DeliveryRecord: Codable, Sendable, Equatable {
    @LowercaseUUID public var id: UUID
    public var incidentId: String?
    public var revision: Int?
    public var reason: String
    @LowercaseUUID public var stakeholderId: UUID
    public var role: StakeholderRole
    @LowercaseUUID public var channelId: UUID
    public var channel: ChannelType
    public var state: DeliveryState
    public var attempts: Int
    /// When the next attempt is due (absent once the delivery has ended).
    public var nextAttemptAt: Date?
    public var lastStatus: Int?
    public var lastError: String?
    public var createdAt: Date
    public var finishedAt: Date?
}
