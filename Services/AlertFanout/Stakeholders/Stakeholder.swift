import Contracts
import Foundation

/// A person or organisation that receives alerts (SPEC §5). The same record the meeting
/// scheduler invites.
public struct Stakeholder: Codable, Sendable, Equatable {
    @LowercaseUUID public var id: UUID
    public var name: String
    public var role: StakeholderRole
    public var organization: String?
    public var timezone: String
    public var channels: [ContactChannel]
}

public enum ChannelType: String, Codable, Sendable, CaseIterable {
    case webhook, email, sms
}

/// One way to reach a stakeholder. `address` is the webhook URL, the email address or the
/// E.164 number. A webhook's signing secret is never part of this value: it is shown once,
/// when created or rotated.
public struct ContactChannel: Codable, Sendable, Equatable {
    @LowercaseUUID public var id: UUID
    public var type: ChannelType
    public var address: String
    /// Set when the endpoint answered 410 or kept failing; nothing is sent to it until re-enabled.
    public var disabledReason: String?
}

/// A stakeholder's interest: where (areas and/or a circle; neither means everywhere), what
/// (categories and/or category groups; neither means everything), how severe, and how to be told.
public struct Subscription: Codable, Sendable, Equatable {
    public struct Circle: Codable, Sendable, Equatable {
        public var lat: Double
        public var lon: Double
        public var radiusM: Double
    }

    /// Local wall-clock times ("22:00" to "07:00") in the stakeholder's time zone.
    public struct QuietHours: Codable, Sendable, Equatable {
        public var start: String
        public var end: String
    }

    public enum Mode: String, Codable, Sendable {
        case immediate
        case digestHourly = "digest_hourly"
        case digestDaily = "digest_daily"
    }

    @LowercaseUUID public var id: UUID
    @LowercaseUUID public var stakeholderId: UUID
    public var areas: [String]?
    public var circle: Circle?
    public var categories: [IncidentCategory]?
    public var categoryGroups: [CategoryGroup]?
    public var minSeverity: Int
    @LowercaseUUIDList public var channelIds: [UUID]
    public var mode: Mode
    public var quietHours: QuietHours?
    /// Also tell this subscriber when a notified incident is closed.
    public var notifyClosure: Bool
}
