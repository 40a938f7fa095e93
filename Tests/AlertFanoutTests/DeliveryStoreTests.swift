import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import AlertFanout

/// The delivery store against PostgreSQL: how claims form notifications (the `webhook-id`s a
/// receiver sees), keep them across retries, stop at their limit and honour the rate limit, and
/// what recording a result leaves in the table and the outbox.
@Suite("Delivery store")
struct DeliveryStoreTests {
    struct Setup {
        var store: DeliveryStore
        var postgres: PostgresClient
        var stakeholder: UUID
        var channels: [UUID]
    }

    /// A fresh database with one stakeholder and three webhook channels.
    static func withStore(_ body: (Setup) async throws -> Void) async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let (stakeholder, _) = try await StakeholderDirectory(postgres: postgres).add(StakeholderInput(
                name: "Tenants", role: .resident, organization: nil, timezone: "UTC",
                channels: (0..<3).map { .init(type: .webhook, address: "https://hooks.example/\($0)") }))
            try await body(Setup(
                store: DeliveryStore(postgres: postgres, logger: TestEnvironment.logger), postgres: postgres,
                stakeholder: stakeholder.id, channels: stakeholder.channels.map(\.id)))
        }
    }

    /// Plans one delivery per id for `channel`, due `delay` seconds from now.
    @discardableResult
    static func plan(_ setup: Setup, channel: UUID, count: Int = 1, severity: Int = 2, delay: Double = -1) async throws -> [UUID] {
        let ids = (0..<count).map { _ in UUID() }
        let payloads = ids.map { #"{"delivery_id":"\#($0.uuidString.lowercased())"}"# }
        _ = try await setup.postgres.execute("""
            INSERT INTO deliveries (id, incident_id, revision, reason, stakeholder_id, role, channel_id, channel_type, severity, payload,
                                    ingested_at, next_attempt_at)
            SELECT u.id, gen_random_uuid(), 1, 'new', \(setup.stakeholder), 'resident', \(channel), 'webhook', \(severity), u.payload,
                   now(), now() + make_interval(secs => \(delay))
            FROM unnest(\(ids)::uuid[], \(payloads)::text[]) AS u(id, payload)
            """)
        return ids
    }

    static func states(_ setup: Setup, _ ids: [UUID]) async throws -> [String] {
        try await setup.postgres.query("SELECT state FROM deliveries WHERE id = ANY(\(ids)) ORDER BY id")
            .map { try $0.decode(0, as: String.self) }
    }

    @Test("due deliveries of one channel travel as one notification named by the smallest id; future ones wait")
    func grouping() async throws {
        try await Self.withStore { setup in
            let first = try await Self.plan(setup, channel: setup.channels[0], count: 3)
            let second = try await Self.plan(setup, channel: setup.channels[1])
            let later = try await Self.plan(setup, channel: setup.channels[2], delay: 3600)

            let claim = try await setup.store.claimDue(limit: 10, lease: .seconds(30))
            #expect(!claim.reachedLimit)
            #expect(claim.notifications.count == 2)
            let group = try #require(claim.notifications.first { $0.channelID == setup.channels[0] })
            let sortedFirst = first.sorted { $0.uuidString < $1.uuidString }
            #expect(group.id == sortedFirst[0])
            #expect(group.deliveryIDs == sortedFirst)
            #expect(group.attempts == 1)
            #expect(group.address == "https://hooks.example/0")
            #expect(group.secrets.count == 1 && !group.channelDisabled)
            let body = String(decoding: group.body, as: UTF8.self)
            let positions = sortedFirst.map { body.range(of: $0.uuidString.lowercased())!.lowerBound }
            #expect(positions == positions.sorted(), "alerts in delivery-id order, so every attempt sends the same bytes")
            #expect(claim.notifications.first { $0.channelID == setup.channels[1] }?.deliveryIDs == second)

            let rows = try await setup.postgres.query("""
                SELECT count(*) FILTER (WHERE state = 'sending' AND notification_id = \(group.id) AND lease_until > now() AND attempts = 1)
                FROM deliveries WHERE id = ANY(\(first))
                """).first?.decode(0, as: Int.self)
            #expect(rows == 3)
            #expect(try await Self.states(setup, later) == ["pending"])
            #expect(try await setup.store.claimDue(limit: 10, lease: .seconds(30)).notifications.isEmpty)
        }
    }

    @Test("a retried notification keeps its id and members; a delivery due since then travels in a new one; results reach the outbox")
    func retryKeepsTheGroup() async throws {
        try await Self.withStore { setup in
            let channel = setup.channels[0]
            let grouped = try await Self.plan(setup, channel: channel, count: 2)
            let first = try #require(try await setup.store.claimDue(limit: 10, lease: .seconds(30)).notifications.first)
            try await setup.store.record(.retry(at: Date().addingTimeInterval(-1), status: 500, error: "HTTP 500"), for: first, disableAfterFailures: 20)
            #expect(try await Self.states(setup, grouped) == ["retrying", "retrying"])
            let newcomer = try await Self.plan(setup, channel: channel)

            let claim = try await setup.store.claimDue(limit: 10, lease: .seconds(30))
            #expect(claim.notifications.count == 2)
            let again = try #require(claim.notifications.first { $0.id == first.id })
            #expect(again.deliveryIDs == first.deliveryIDs)
            #expect(again.body == first.body, "the same webhook-id carries the same body")
            #expect(again.attempts == 2)
            let fresh = try #require(claim.notifications.first { $0.id != first.id })
            #expect(fresh.deliveryIDs == newcomer)

            try await setup.store.recordAll([(.delivered(status: 200), again), (.delivered(status: 204), fresh)], disableAfterFailures: 20)
            #expect(try await Self.states(setup, grouped + newcomer) == ["delivered", "delivered", "delivered"])
            let events = try await setup.postgres.query("SELECT count(*) FROM outbox WHERE topic = 'alerts.delivered'").first?.decode(0, as: Int.self)
            #expect(events == 3, "one alerts.delivered event per terminal delivery")
            let channelRow = try await setup.postgres.query("""
                SELECT consecutive_failures, last_notified_at IS NOT NULL FROM stakeholder_channels WHERE id = \(channel)
                """).first.map { try $0.decode((Int, Bool).self) }
            #expect(channelRow.map { $0.0 == 0 && $0.1 } == true, "\(String(describing: channelRow))")
            // Recording the same result again changes nothing and publishes nothing more.
            try await setup.store.recordAll([(.delivered(status: 200), again)], disableAfterFailures: 20)
            #expect(try await setup.postgres.query("SELECT count(*) FROM outbox").first?.decode(0, as: Int.self) == 3)
        }
    }

    @Test("a claim takes at most its limit and says when it stopped there")
    func limit() async throws {
        try await Self.withStore { setup in
            for channel in setup.channels { try await Self.plan(setup, channel: channel) }
            let first = try await setup.store.claimDue(limit: 2, lease: .seconds(30))
            #expect(first.notifications.count == 2 && first.reachedLimit)
            let second = try await setup.store.claimDue(limit: 2, lease: .seconds(30))
            #expect(second.notifications.count == 1 && !second.reachedLimit)
        }
    }

    @Test("past the hourly limit a new notification waits for the window to end; severity 5 still goes")
    func rateLimit() async throws {
        try await Self.withStore { setup in
            let channel = setup.channels[0]
            let windowStart = Date().addingTimeInterval(-600)
            _ = try await setup.postgres.execute("""
                UPDATE stakeholder_channels SET window_started_at = \(windowStart), window_count = 1 WHERE id = \(channel)
                """)
            let held = try await Self.plan(setup, channel: channel)
            #expect(try await setup.store.claimDue(limit: 10, lease: .seconds(30), rateLimit: 1).notifications.isEmpty)
            let waiting = try await setup.postgres.query("""
                SELECT state, extract(epoch FROM next_attempt_at - \(windowStart))::float8 FROM deliveries WHERE id = ANY(\(held))
                """).first.map { try $0.decode((String, Double).self) }
            #expect(waiting?.0 == "pending")
            #expect(waiting.map { abs($0.1 - 3600) < 1 } == true, "\(String(describing: waiting))")

            let extreme = try await Self.plan(setup, channel: channel, severity: 5)
            let claim = try await setup.store.claimDue(limit: 10, lease: .seconds(30), rateLimit: 1)
            #expect(claim.notifications.map(\.deliveryIDs) == [extreme])
            #expect(try await setup.postgres.query("SELECT window_count FROM stakeholder_channels WHERE id = \(channel)").first?.decode(0, as: Int.self) == 2)
        }
    }

    @Test("a closed incident cancels what still waits for it, and publishes each cancellation; what is already out is left alone")
    func cancelOnClosure() async throws {
        try await Self.withStore { setup in
            let incident = UUID()
            let waiting = try await Self.plan(setup, channel: setup.channels[0], delay: 600)
            let out = try await Self.plan(setup, channel: setup.channels[1])
            let other = try await Self.plan(setup, channel: setup.channels[2], delay: 600)
            _ = try await setup.postgres.execute("UPDATE deliveries SET incident_id = \(incident) WHERE id = ANY(\(waiting + out))")
            let sent = try #require(try await setup.store.claimDue(limit: 10, lease: .seconds(30)).notifications.first)
            #expect(sent.deliveryIDs == out)

            let cancelled = try await setup.postgres.withTransaction { connection in
                try await DeliveryStore.cancelPending(incident: incident, at: Date(), in: connection)
            }
            #expect(cancelled.map(\.deliveryId) == waiting)
            #expect(cancelled.allSatisfy { $0.outcome == .cancelled })
            #expect(try await Self.states(setup, waiting) == ["cancelled"])
            #expect(try await Self.states(setup, out) == ["sending"], "a notification already under way is not taken back")
            #expect(try await Self.states(setup, other) == ["pending"])
            #expect(try await setup.postgres.query("SELECT count(*) FROM outbox WHERE topic = 'alerts.delivered'").first?.decode(0, as: Int.self) == 1)
        }
    }

    @Test("deliveries whose channel was removed are claimed as disabled (the worker ends them suppressed)")
    func removedChannel() async throws {
        try await Self.withStore { setup in
            let ids = try await Self.plan(setup, channel: UUID())
            let claimed = try #require(try await setup.store.claimDue(limit: 10, lease: .seconds(30)).notifications.first)
            #expect(claimed.deliveryIDs == ids)
            #expect(claimed.channelDisabled && claimed.address == nil)
            try await setup.store.record(.suppressed("the channel is disabled or was removed"), for: claimed, disableAfterFailures: 20)
            #expect(try await Self.states(setup, ids) == ["suppressed"])
        }
    }
}
