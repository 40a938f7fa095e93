import Contracts
import Foundation
@testable import AlertFanout

/// Incidents and subscriptions for the fan-out tests.
enum Fixtures {
    static func incident(
        id: UUID = UUID(), revision: Int = 1, category: IncidentCategory = .theft, area: String = "downtown",
        lat: Double? = 40.7128, lon: Double? = -74.0060, severity: Int? = nil, closed: Bool = false,
        description: String? = "bicycle taken from the rack", occurredAt: Date = Date()
    ) -> CanonicalIncident {
        CanonicalIncident(
            id: id, revision: revision, source: "test", externalId: id.uuidString, category: category, sourceCategory: category.rawValue,
            categoryGroup: category.group, description: description, occurredAt: occurredAt, closedAt: closed ? occurredAt : nil,
            status: closed ? "closed" : "open", location: lat.map { IncidentLocation(lat: $0, lon: lon) }, areaId: area,
            cell: lat == nil ? nil : "dr5regw", severity: severity ?? category.defaultSeverity, sensitive: category.isSensitive,
            ingestedAt: occurredAt)
    }

    static func entry(
        role: StakeholderRole = .resident, areas: [String]? = nil, circle: Subscription.Circle? = nil,
        categories: [IncidentCategory]? = nil, groups: [CategoryGroup]? = nil, minSeverity: Int = 1,
        channels: [(id: UUID, type: ChannelType)] = [(UUID(), .webhook)], notifyClosure: Bool = false, stakeholder: UUID = UUID()
    ) -> SubscriptionIndex.Entry {
        SubscriptionIndex.Entry(
            subscription: Subscription(
                id: UUID(), stakeholderId: stakeholder, areas: areas, circle: circle, categories: categories, categoryGroups: groups,
                minSeverity: minSeverity, channelIds: channels.map(\.id), mode: .immediate, quietHours: nil, notifyClosure: notifyClosure),
            role: role, timezone: "UTC", channels: channels)
    }
}
