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
///
/// In JSON the address is under the key the request used: `url` (webhook), `address` (email)
/// or `number` (SMS), as in SPEC §10.
public struct ContactChannel: Codable, Sendable, Equatable {
    @LowercaseUUID public var id: UUID
    public var type: ChannelType
    public var address: String
    /// Set when the endpoint answered 410 or kept failing; nothing is sent to it until re-enabled.
    public var disabledReason: String?
    /// Shown once: in the answer that created the webhook (never stored in this value otherwise).
    public var secret: String?

    public init(id: UUID, type: ChannelType, address: String, disabledReason: String? = nil, secret: String? = nil) {
        self.id = id
        self.type = type
        self.address = address
        self.disabledReason = disabledReason
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case id, type, url, address, number, disabledReason, secret
    }

    static func addressKey(_ type: ChannelType) -> CodingKeys {
        switch type {
        case .webhook: .url
        case .email: .address
        case .sms: .number
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(LowercaseUUID.self, forKey: .id).wrappedValue
        type = try container.decode(ChannelType.self, forKey: .type)
        address = try container.decode(String.self, forKey: Self.addressKey(type))
        disabledReason = try container.decodeIfPresent(String.self, forKey: .disabledReason)
        secret = try container.decodeIfPresent(String.self, forKey: .secret)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(LowercaseUUID(wrappedValue: id), forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(address, forKey: Self.addressKey(type))
        try container.encodeIfPresent(disabledReason, forKey: .disabledReason)
        try container.encodeIfPresent(secret, forKey: .secret)
    }
}

/// A stakeholder's interest: where (areas and/or a circle; neither means everywhere), what
/// (categories and/or category groups; neither means everything), how severe, and how to be told.
public struct Subscription: Codable, Sendable, Equatable {
    public struct Circle: Codable, Sendable, Equatable {
        public var lat: Double
        public var lon: Double
        public var radiusM: Double

        public init(lat: Double, lon: Double, radiusM: Double) {
            self.lat = lat
            self.lon = lon
            self.radiusM = radiusM
        }
    }

    /// Local wall-clock times ("22:00" to "07:00") in the stakeholder's time zone.
    public struct QuietHours: Codable, Sendable, Equatable {
        public var start: String
        public var end: String

        public init(start: String, end: String) {
            self.start = start
            self.end = end
        }
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

    public init(
        id: UUID, stakeholderId: UUID, areas: [String]?, circle: Circle?, categories: [IncidentCategory]?, categoryGroups: [CategoryGroup]?,
        minSeverity: Int, channelIds: [UUID], mode: Mode, quietHours: QuietHours?, notifyClosure: Bool
    ) {
        self.id = id
        self.stakeholderId = stakeholderId
        self.areas = areas
        self.circle = circle
        self.categories = categories
        self.categoryGroups = categoryGroups
        self.minSeverity = minSeverity
        self.channelIds = channelIds
        self.mode = mode
        self.quietHours = quietHours
        self.notifyClosure = notifyClosure
    }
}
