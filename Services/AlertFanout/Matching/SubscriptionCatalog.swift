import Contracts
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import Postgres
import ServiceLifecycle

/// The current `SubscriptionIndex`, built at start and rebuilt whenever the
/// `coalition_subscriptions` channel says stakeholders, channels or subscriptions changed.
/// Matching reads the index from memory; the database is read only on a change.
public final class SubscriptionCatalog: Service, Sendable {
    private let postgres: PostgresClient
    private let logger: Logger
    private let current = NIOLockedValueBox(SubscriptionIndex([]))
    private let size = Gauge(label: "coalition_fanout_subscriptions")

    public init(postgres: PostgresClient, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    public var index: SubscriptionIndex { current.withLockedValue { $0 } }

    /// Reads every subscription with its stakeholder and enabled channels, and swaps the index.
    public func reload() async throws {
        var channels: [UUID: ChannelType] = [:]
        for row in try await postgres.query("SELECT id, type FROM stakeholder_channels WHERE disabled_at IS NULL") {
            let (id, type) = try row.decode((UUID, String).self)
            channels[id] = ChannelType(rawValue: type)
        }
        var stakeholders: [UUID: (role: StakeholderRole, timezone: String)] = [:]
        for row in try await postgres.query("SELECT id, role, timezone FROM stakeholders") {
            let (id, role, timezone) = try row.decode((UUID, String, String).self)
            stakeholders[id] = (StakeholderRole(rawValue: role) ?? .resident, timezone)
        }
        var entries: [SubscriptionIndex.Entry] = []
        for row in try await postgres.query("""
            SELECT id, stakeholder_id, areas, circle_lat, circle_lon, circle_radius_m, categories, category_groups, min_severity,
                   channel_ids, mode, quiet_start, quiet_end, notify_closure
            FROM subscriptions ORDER BY created_at, id
            """) {
            let subscription = try StakeholderDirectory.subscription(from: row)
            guard let owner = stakeholders[subscription.stakeholderId] else { continue }
            let enabled = subscription.channelIds.compactMap { id in channels[id].map { (id: id, type: $0) } }
            guard !enabled.isEmpty else { continue }
            entries.append(.init(subscription: subscription, role: owner.role, timezone: owner.timezone, channels: enabled))
        }
        let index = SubscriptionIndex(entries)
        current.withLockedValue { $0 = index }
        size.record(index.count)
        logger.info("subscription index rebuilt", metadata: ["subscriptions": "\(index.count)"])
    }

    /// Listens for changes and rebuilds; a burst of changes costs one rebuild per notification
    /// batch, and a reconnect rebuilds too (notifications sent while disconnected are lost).
    public func run() async throws {
        let notifications = try await postgres.listen(channel: "coalition_subscriptions", onReconnect: { [weak self] in
            guard let self else { return }
            Task { try? await self.reload() }
        })
        try await reload()
        for try await _ in notifications.cancelOnGracefulShutdown() {
            do { try await reload() } catch { logger.error("subscription index rebuild failed", metadata: ["error": "\(error)"]) }
        }
    }
}
