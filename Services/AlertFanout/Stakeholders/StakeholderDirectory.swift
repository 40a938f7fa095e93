import Contracts
import Foundation
import Postgres
import ServiceKit

/// Stakeholders, their channels and subscriptions in PostgreSQL. Used by the HTTP API and the
/// CLI alike; every change fires `coalition_subscriptions` (a trigger), which the running
/// fan-out's index listens to.
public struct StakeholderDirectory: Sendable {
    /// A subscription the database context refuses (unknown stakeholder, channel or area).
    public struct Refusal: Error, Sendable {
        public var errors: [ProblemDetails.FieldError]
        public var notFound: Bool
    }

    private let postgres: PostgresClient

    public init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    /// Creates the stakeholder and its channels. Returns it with the webhook secrets by channel
    /// id: the only time they are shown.
    public func add(_ input: StakeholderInput) async throws -> (stakeholder: Stakeholder, secrets: [UUID: String]) {
        let id = UUID()
        var channels: [ContactChannel] = []
        var secrets: [UUID: String] = [:]
        try await postgres.withTransaction { connection in
            try await connection.execute("""
                INSERT INTO stakeholders (id, name, role, organization, timezone)
                VALUES (\(id), \(input.name), \(input.role.rawValue), \(input.organization), \(input.timezone))
                """)
            for channel in input.channels {
                let channelID = UUID()
                let secret = channel.type == .webhook ? WebhookSecret.generate() : nil
                try await connection.execute("""
                    INSERT INTO stakeholder_channels (id, stakeholder_id, type, address, secret)
                    VALUES (\(channelID), \(id), \(channel.type.rawValue), \(channel.address), \(secret))
                    """)
                channels.append(ContactChannel(id: channelID, type: channel.type, address: channel.address))
                if let secret { secrets[channelID] = secret }
            }
        }
        let stakeholder = Stakeholder(
            id: id, name: input.name, role: input.role, organization: input.organization, timezone: input.timezone, channels: channels)
        return (stakeholder, secrets)
    }

    public func list() async throws -> [Stakeholder] {
        try await load(where: nil)
    }

    public func get(_ id: UUID) async throws -> Stakeholder? {
        try await load(where: id).first
    }

    private func load(where id: UUID?) async throws -> [Stakeholder] {
        var query: PostgresQuery = "SELECT id, name, role, organization, timezone FROM stakeholders"
        if let id { query.append(" WHERE id = \(id)") }
        query.append(" ORDER BY name, id")
        var stakeholders: [Stakeholder] = []
        var position: [UUID: Int] = [:]
        for row in try await postgres.query(query) {
            let (id, name, role, organization, timezone) = try row.decode((UUID, String, String, String?, String).self)
            position[id] = stakeholders.count
            stakeholders.append(Stakeholder(
                id: id, name: name, role: StakeholderRole(rawValue: role) ?? .resident, organization: organization, timezone: timezone, channels: []))
        }
        guard !stakeholders.isEmpty else { return [] }
        for row in try await postgres.query("""
            SELECT id, stakeholder_id, type, address, disabled_reason FROM stakeholder_channels
            WHERE stakeholder_id = ANY(\(Array(position.keys))) ORDER BY created_at, id
            """) {
            let (channelID, owner, type, address, disabled) = try row.decode((UUID, UUID, String, String, String?).self)
            guard let index = position[owner], let type = ChannelType(rawValue: type) else { continue }
            stakeholders[index].channels.append(ContactChannel(id: channelID, type: type, address: address, disabledReason: disabled))
        }
        return stakeholders
    }

    /// Removes the stakeholder with its channels and subscriptions; deliveries stay as history.
    public func remove(_ id: UUID) async throws -> Bool {
        try await postgres.execute("DELETE FROM stakeholders WHERE id = \(id)") == 1
    }

    /// A new secret for a webhook channel; the previous one keeps signing too for `overlap`,
    /// so a receiver can switch without missing a notification. `nil` when no such webhook.
    public func rotateSecret(channel: UUID, overlap: Duration) async throws -> String? {
        let secret = WebhookSecret.generate()
        let seconds = Int(overlap.components.seconds)
        let updated = try await postgres.execute("""
            UPDATE stakeholder_channels
            SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => \(seconds)), secret = \(secret)
            WHERE id = \(channel) AND type = 'webhook'
            """)
        return updated == 1 ? secret : nil
    }

    /// Enables a channel the fan-out disabled (after the receiver is fixed).
    public func enable(channel: UUID) async throws -> Bool {
        try await postgres.execute("""
            UPDATE stakeholder_channels SET disabled_at = NULL, disabled_reason = NULL, consecutive_failures = 0 WHERE id = \(channel)
            """) == 1
    }

    // MARK: - Subscriptions

    public func addSubscription(_ input: SubscriptionInput) async throws -> Subscription {
        try await postgres.withTransaction { connection in
            guard try await !connection.query("SELECT 1 FROM stakeholders WHERE id = \(input.stakeholderId)").isEmpty else {
                throw Refusal(errors: [.init(field: "stakeholder_id", code: "unknown_stakeholder", message: "no stakeholder \(input.stakeholderId.uuidString.lowercased())")], notFound: false)
            }
            var errors: [ProblemDetails.FieldError] = []
            let owned = Set(try await connection.query("""
                SELECT id FROM stakeholder_channels WHERE stakeholder_id = \(input.stakeholderId) AND id = ANY(\(input.channelIds))
                """).map { try $0.decode(0, as: UUID.self) })
            for (index, channel) in input.channelIds.enumerated() where !owned.contains(channel) {
                errors.append(.init(field: "channel_ids/\(index)", code: "unknown_channel",
                                    message: "channel \(channel.uuidString.lowercased()) is not one of this stakeholder's channels"))
            }
            if let areas = input.areas {
                let known = Set(try await connection.query("SELECT id FROM areas WHERE id = ANY(\(areas))").map { try $0.decode(0, as: String.self) })
                for (index, area) in areas.enumerated() where !known.contains(area) && area != "unassigned" {
                    errors.append(.init(field: "areas/\(index)", code: "unknown_area", message: "no area \(area) has been imported (coalition areas list)"))
                }
            }
            guard errors.isEmpty else { throw Refusal(errors: errors, notFound: false) }
            let subscription = Subscription(
                id: UUID(), stakeholderId: input.stakeholderId, areas: input.areas, circle: input.circle, categories: input.categories,
                categoryGroups: input.categoryGroups, minSeverity: input.minSeverity, channelIds: input.channelIds, mode: input.mode,
                quietHours: input.quietHours, notifyClosure: input.notifyClosure)
            try await connection.execute("""
                INSERT INTO subscriptions (id, stakeholder_id, areas, circle_lat, circle_lon, circle_radius_m, categories, category_groups,
                                           min_severity, channel_ids, mode, quiet_start, quiet_end, notify_closure)
                VALUES (\(subscription.id), \(subscription.stakeholderId), \(subscription.areas), \(subscription.circle?.lat), \(subscription.circle?.lon),
                        \(subscription.circle?.radiusM), \(subscription.categories?.map(\.rawValue)), \(subscription.categoryGroups?.map(\.rawValue)),
                        \(subscription.minSeverity), \(subscription.channelIds), \(subscription.mode.rawValue), \(subscription.quietHours?.start),
                        \(subscription.quietHours?.end), \(subscription.notifyClosure))
                """)
            return subscription
        }
    }

    public func subscriptions(of stakeholder: UUID? = nil) async throws -> [Subscription] {
        var query: PostgresQuery = """
            SELECT id, stakeholder_id, areas, circle_lat, circle_lon, circle_radius_m, categories, category_groups, min_severity,
                   channel_ids, mode, quiet_start, quiet_end, notify_closure
            FROM subscriptions
            """
        if let stakeholder { query.append(" WHERE stakeholder_id = \(stakeholder)") }
        query.append(" ORDER BY created_at, id")
        return try await postgres.query(query).map(Self.subscription(from:))
    }

    public func removeSubscription(_ id: UUID) async throws -> Bool {
        try await postgres.execute("DELETE FROM subscriptions WHERE id = \(id)") == 1
    }

    static func subscription(from row: PostgresRow) throws -> Subscription {
        let (id, stakeholder, areas, lat, lon, radius, categories) = try row.decode(
            (UUID, UUID, [String]?, Double?, Double?, Double?, [String]?).self)
        let groups = try row.decode(7, as: [String]?.self)
        let (minSeverity, channels, mode, quietStart, quietEnd, closure) = try (
            row.decode(8, as: Int.self), row.decode(9, as: [UUID].self), row.decode(10, as: String.self),
            row.decode(11, as: String?.self), row.decode(12, as: String?.self), row.decode(13, as: Bool.self))
        return Subscription(
            id: id, stakeholderId: stakeholder, areas: areas,
            circle: lat.flatMap { lat in lon.flatMap { lon in radius.map { Subscription.Circle(lat: lat, lon: lon, radiusM: $0) } } },
            categories: categories?.compactMap(IncidentCategory.init(rawValue:)),
            categoryGroups: groups?.compactMap(CategoryGroup.init(rawValue:)),
            minSeverity: minSeverity, channelIds: channels, mode: Subscription.Mode(rawValue: mode) ?? .immediate,
            quietHours: quietStart.flatMap { start in quietEnd.map { Subscription.QuietHours(start: start, end: $0) } },
            notifyClosure: closure)
    }
}

/// Standard Webhooks secrets: `whsec_` then the base64 of 32 random bytes (the HMAC key).
enum WebhookSecret {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "whsec_" + Data(bytes).base64EncodedString()
    }

    /// The HMAC key of a `whsec_` secret; `nil` if it is not one.
    static func key(of secret: String) -> [UInt8]? {
        guard secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        return Array(data)
    }
}
