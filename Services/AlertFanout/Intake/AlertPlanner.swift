import Contracts
import Foundation

/// Decides, for one revision of an incident, which notifications to create: pure, so the
/// rules are tested without a broker or a database.
///
/// - At most one notification per (incident, channel) for the incident itself (`new`), plus one
///   per severity escalation (`escalation-<severity>`) and one closure notice (`closure`) when a
///   matching subscription asked for it and the channel was told about the incident before.
/// - A closed incident cancels what is still pending for it (the caller does that) and starts
///   nothing new but the closure notices.
/// - Privacy (SPEC §6): a sensitive incident reaches `law_enforcement` and `service_provider`
///   in full; everyone else gets the area and category only, no description, no coordinates.
public enum AlertPlanner {
    /// What a channel was already sent (or has pending) about an incident.
    public struct Prior: Sendable, Equatable {
        public var channelID: UUID
        public var reason: String
        public var severity: Int
        public init(channelID: UUID, reason: String, severity: Int) {
            self.channelID = channelID
            self.reason = reason
            self.severity = severity
        }
    }

    public struct Planned: Sendable, Equatable {
        public var id: UUID
        public var reason: String
        public var stakeholderID: UUID
        public var role: StakeholderRole
        public var channelID: UUID
        public var channelType: ChannelType
        public var subscriptionIDs: [UUID]
        /// Timing each subscription behind it asks for (the earliest wins).
        public var preferences: [DeliveryPolicy.Preference]
        public var payload: AlertPayload
    }

    /// Namespace of delivery ids: UUIDv5 of "incident id / channel id / reason".
    static let namespace = UUID(uuidString: "6c1f0e4e-2a55-4d0a-9b0e-3f9c1b7d8a21")!

    public static func deliveryID(incident: UUID, channel: UUID, reason: String) -> UUID {
        UUID(version5: namespace, name: Array("\(incident.uuidString.lowercased())/\(channel.uuidString.lowercased())/\(reason)".utf8))
    }

    public static func isClosed(_ incident: CanonicalIncident) -> Bool {
        incident.closedAt != nil
            || ["closed", "resolved", "cancelled", "canceled", "completed", "complete"].contains(incident.status?.lowercased() ?? "")
    }

    public static func plan(_ incident: CanonicalIncident, entries: [SubscriptionIndex.Entry], prior: [Prior]) -> [Planned] {
        let closed = isClosed(incident)
        // One notification per channel, whichever subscriptions led to it.
        var byChannel: [UUID: (entry: SubscriptionIndex.Entry, type: ChannelType, subscriptions: [UUID], closure: Bool, preferences: [DeliveryPolicy.Preference])] = [:]
        var order: [UUID] = []
        for entry in entries {
            for channel in entry.channels {
                let preference = DeliveryPolicy.Preference(
                    mode: entry.subscription.mode, quietHours: entry.subscription.quietHours,
                    timezone: TimeZone(identifier: entry.timezone) ?? TimeZone(identifier: "UTC")!)
                if var existing = byChannel[channel.id] {
                    existing.subscriptions.append(entry.subscription.id)
                    existing.closure = existing.closure || entry.subscription.notifyClosure
                    existing.preferences.append(preference)
                    byChannel[channel.id] = existing
                } else {
                    byChannel[channel.id] = (entry, channel.type, [entry.subscription.id], entry.subscription.notifyClosure, [preference])
                    order.append(channel.id)
                }
            }
        }
        var planned: [Planned] = []
        for channelID in order {
            guard let target = byChannel[channelID] else { continue }
            let earlier = prior.filter { $0.channelID == channelID }
            let reason: String
            if closed {
                guard target.closure, !earlier.isEmpty, !earlier.contains(where: { $0.reason == "closure" }) else { continue }
                reason = "closure"
            } else if earlier.isEmpty {
                reason = "new"
            } else if incident.severity > earlier.map(\.severity).max() ?? 0 {
                reason = "escalation-\(incident.severity)"
            } else {
                continue
            }
            let id = deliveryID(incident: incident.id, channel: channelID, reason: reason)
            planned.append(Planned(
                id: id, reason: reason, stakeholderID: target.entry.subscription.stakeholderId, role: target.entry.role,
                channelID: channelID, channelType: target.type, subscriptionIDs: target.subscriptions, preferences: target.preferences,
                payload: AlertPayload(deliveryID: id, reason: reason, incident: incident, role: target.entry.role,
                                      stakeholderID: target.entry.subscription.stakeholderId, subscriptionIDs: target.subscriptions)))
        }
        return planned
    }
}

/// The notification body every channel renders (the webhook sends it as JSON).
public struct AlertPayload: Codable, Sendable, Equatable {
    public struct IncidentView: Codable, Sendable, Equatable {
        @LowercaseUUID public var id: UUID
        public var revision: Int
        public var category: IncidentCategory
        public var categoryGroup: CategoryGroup
        public var severity: Int
        public var sensitive: Bool
        public var areaId: String
        public var occurredAt: Date
        public var status: String?
        public var closedAt: Date?
        /// Withheld (absent) for a sensitive incident outside the law-enforcement scope.
        public var description: String?
        public var location: IncidentLocation?
        public var cell: String?
        public var ingestedAt: Date
    }

    public var type = "coalition.alert.v1"
    @LowercaseUUID public var deliveryId: UUID
    public var reason: String
    @LowercaseUUID public var stakeholderId: UUID
    @LowercaseUUIDList public var subscriptionIds: [UUID]
    /// True when detail was withheld for privacy.
    public var generalized: Bool
    public var incident: IncidentView

    init(deliveryID: UUID, reason: String, incident: CanonicalIncident, role: StakeholderRole, stakeholderID: UUID, subscriptionIDs: [UUID]) {
        let full = !incident.sensitive || role.seesSensitiveDetail
        self.deliveryId = deliveryID
        self.reason = reason
        self.stakeholderId = stakeholderID
        self.subscriptionIds = subscriptionIDs
        self.generalized = !full
        self.incident = IncidentView(
            id: incident.id, revision: incident.revision, category: incident.category, categoryGroup: incident.categoryGroup,
            severity: incident.severity, sensitive: incident.sensitive, areaId: incident.areaId, occurredAt: incident.occurredAt,
            status: incident.status, closedAt: incident.closedAt,
            description: full ? incident.description : nil, location: full ? incident.location : nil, cell: full ? incident.cell : nil,
            ingestedAt: incident.ingestedAt)
    }
}
