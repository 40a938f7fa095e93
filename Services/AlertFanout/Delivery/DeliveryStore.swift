import Contracts
import Foundation
import Logging
import Metrics
import Postgres
import ServiceKit

/// Every read and write of `deliveries`. Each transition is one transaction that also writes
/// the `alerts.delivered` event of a terminal state to the outbox, so the topic tells exactly
/// what the table says.
///
/// Transitions of rows named by id (or by incident) guard the current state with
/// `ARRAY[state] <@ sources` rather than `state = ANY(sources)`: the same test, but one the
/// planner cannot answer from the live-state partial indexes (`deliveries_due`,
/// `deliveries_sending`), which it otherwise reads whole, live rows and dead entries alike, and
/// joins — a cost that grows with the backlog. Named rows are reached through their key.
public struct DeliveryStore: Sendable {
    /// A notification claimed for sending: one or more deliveries for one channel, sent as one
    /// request whose `webhook-id` is `id` (the group's first delivery id, fixed when the group
    /// formed), with what the sender needs of the channel.
    public struct Claimed: Sendable {
        public var id: UUID
        public var deliveryIDs: [UUID]
        public var channelID: UUID
        public var channelType: ChannelType
        public var stakeholderID: UUID
        /// Each delivery's alert (JSON), in delivery-id order: the same bytes on every attempt.
        public var payloads: [[UInt8]]
        public var attempts: Int
        /// When the first attempt was made: the give-up limit counts from it, not from planning
        /// (a digest or quiet hours may hold a delivery back for a long time first).
        public var createdAt: Date
        public var address: String?
        /// The current secret first, then the previous one while a rotation overlaps.
        public var secrets: [String]
        public var channelDisabled: Bool

        /// The request body: `{"type":"coalition.notification.v1","notification_id":…,"stakeholder_id":…,"alerts":[…]}`.
        public var body: [UInt8] {
            var body = Array(#"{"type":"coalition.notification.v1","notification_id":""#.utf8)
            body += Array(id.uuidString.lowercased().utf8)
            body += Array(#"","stakeholder_id":""#.utf8)
            body += Array(stakeholderID.uuidString.lowercased().utf8)
            body += Array(#"","alerts":["#.utf8)
            for (index, payload) in payloads.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                body += payload
            }
            body += Array("]}".utf8)
            return body
        }
    }

    public enum Result: Sendable, Equatable {
        case delivered(status: Int)
        case retry(at: Date, status: Int?, error: String)
        case failed(status: Int?, error: String)
        case suppressed(String)
        /// The endpoint is gone (410) or kept failing: the delivery fails and the channel is disabled.
        case failedAndDisable(status: Int?, error: String, reason: String)
    }

    let postgres: PostgresClient
    let logger: Logger

    public init(postgres: PostgresClient, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    /// Planned deliveries of a whole batch, as columns, written with one INSERT (a replayed
    /// plan inserts nothing: ids are deterministic).
    struct PlannedRows {
        var ids: [UUID] = []
        var incidents: [UUID] = []
        var revisions: [Int] = []
        var reasons: [String] = []
        var stakeholders: [UUID] = []
        var roles: [String] = []
        var channels: [UUID] = []
        var types: [String] = []
        var severities: [Int] = []
        var payloads: [String] = []
        var ingestedAt: [Date] = []
        var due: [Date] = []

        mutating func add(_ planned: [AlertPlanner.Planned], due times: [Date], incident: CanonicalIncident) throws {
            for (plan, time) in zip(planned, times) {
                ids.append(plan.id)
                incidents.append(incident.id)
                revisions.append(incident.revision)
                reasons.append(plan.reason)
                stakeholders.append(plan.stakeholderID)
                roles.append(plan.role.rawValue)
                channels.append(plan.channelID)
                types.append(plan.channelType.rawValue)
                severities.append(incident.severity)
                payloads.append(String(decoding: try CoalitionJSON.encoder.encode(plan.payload), as: UTF8.self))
                ingestedAt.append(incident.ingestedAt)
                due.append(time)
            }
        }

        func insert(in connection: PostgresConnection) async throws -> Int {
            guard !ids.isEmpty else { return 0 }
            return try await connection.execute("""
                INSERT INTO deliveries (id, incident_id, revision, reason, stakeholder_id, role, channel_id, channel_type, severity, payload,
                                        ingested_at, next_attempt_at)
                SELECT * FROM unnest(\(ids)::uuid[], \(incidents)::uuid[], \(revisions)::int[], \(reasons)::text[], \(stakeholders)::uuid[],
                                     \(roles)::text[], \(channels)::uuid[], \(types)::text[], \(severities)::int[], \(payloads)::text[],
                                     \(ingestedAt)::timestamptz[], \(due)::timestamptz[])
                ON CONFLICT (id) DO NOTHING
                """)
        }
    }

    /// Cancels what is still waiting for a closed incident (closure notices excepted).
    static func cancelPending(incident: UUID, at now: Date, in connection: PostgresConnection) async throws -> [DeliveryOutcome] {
        let rows = try await connection.query("""
            UPDATE deliveries SET state = 'cancelled', finished_at = \(now), updated_at = \(now), last_error = 'incident closed'
            WHERE incident_id = \(incident) AND ARRAY[state] <@ \(DeliveryState.sources(of: .cancelled)) AND reason <> 'closure' AND \(unsafeSQL: incidentReasons)
              AND notification_id IS NULL
            RETURNING \(unsafeSQL: outcomeColumns)
            """)
        let outcomes = try rows.map(outcome(from:))
        try await Outbox.enqueue(try outcomes.map { try $0.outboxEvent }, in: connection)
        return outcomes
    }

    /// Hands expired `sending` leases back (their process died mid-send).
    public func recoverExpiredLeases() async throws -> Int {
        try await postgres.withTransaction { connection in
            try await connection.preferIndexScans()
            return try await connection.execute("""
                UPDATE deliveries SET state = 'retrying', next_attempt_at = now(), updated_at = now(), lease_until = NULL,
                                      last_error = coalesce(last_error, 'sender stopped before finishing')
                WHERE state = 'sending' AND lease_until < now()
                """)
        }
    }

    /// What one claim took: the notifications now `sending` for this process, and whether the
    /// claim stopped at its limit (so more may be due right now).
    public struct Claim: Sendable {
        public var notifications: [Claimed]
        public var reachedLimit: Bool
    }

    /// Claims up to `limit` due notifications for this process (`sending`, leased for `lease`).
    ///
    /// A delivery not yet in a group joins the group of every due, ungrouped delivery for the
    /// same channel that this claim takes; the group's first delivery id becomes everyone's
    /// `notification_id`. A group is claimed through its leader row only, so no process ever
    /// sends part of one. Two statements whatever the size: the due rows are locked (at most
    /// `limit`, each at least one notification), then one UPDATE joins the fresh ones to their
    /// group and moves every member to `sending`, returning them with their channel.
    public func claimDue(limit: Int, lease: Duration, rateLimit: Int? = nil) async throws -> Claim {
        let seconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
        let claimable = DeliveryState.sources(of: .sending)
        return try await postgres.withTransaction { connection in
            try await connection.preferIndexScans()
            let due = try await connection.query("""
                SELECT id, notification_id, channel_id, severity FROM deliveries
                WHERE state = ANY(\(claimable)) AND next_attempt_at <= now() AND (notification_id IS NULL OR notification_id = id)
                ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
                """).map { try $0.decode((UUID, UUID?, UUID, Int).self) }
            guard !due.isEmpty else { return Claim(notifications: [], reachedLimit: false) }
            // Groups formed by an earlier attempt keep their members; the ungrouped rows form one
            // group per channel, led by its smallest id.
            var retried: [UUID] = []
            var fresh: [UUID: [UUID]] = [:]
            for (id, notification, channel, _) in due {
                if notification != nil { retried.append(id) } else { fresh[channel, default: []].append(id) }
            }
            var formed: [UUID: (channel: UUID, members: [UUID])] = [:]
            for (channel, ids) in fresh {
                formed[ids.min { $0.uuidString < $1.uuidString }!] = (channel, ids)
            }
            var kept = Set(retried).union(formed.keys)
            if let rateLimit {
                let urgent = Set(due.filter { $0.3 >= 5 }.map(\.0))
                kept.subtract(try await Self.applyRateLimit(formed: formed, urgent: urgent, limit: rateLimit, connection: connection))
            }
            var members: [UUID] = []
            var leaders: [UUID] = []
            for (leader, group) in formed where kept.contains(leader) {
                members += group.members
                leaders += Array(repeating: leader, count: group.members.count)
            }
            let rows = try await connection.query("""
                WITH members (id, leader) AS (
                    SELECT * FROM unnest(\(members)::uuid[], \(leaders)::uuid[])
                    UNION ALL
                    SELECT id, notification_id FROM deliveries
                    WHERE notification_id = ANY(\(retried.filter(kept.contains))) AND state = ANY(\(claimable))
                ), claimed AS (
                    UPDATE deliveries d SET notification_id = m.leader, state = 'sending', attempts = d.attempts + 1, updated_at = now(),
                                            lease_until = now() + make_interval(secs => \(seconds)),
                                            first_attempt_at = coalesce(d.first_attempt_at, now())
                    FROM members m WHERE d.id = m.id AND ARRAY[d.state] <@ \(claimable)
                    RETURNING d.id, d.notification_id, d.channel_id, d.channel_type, d.stakeholder_id, d.payload, d.attempts, d.first_attempt_at
                )
                SELECT claimed.*, c.address, c.secret, CASE WHEN c.previous_secret_expires_at > now() THEN c.previous_secret END,
                       c.id IS NULL OR c.disabled_at IS NOT NULL
                FROM claimed LEFT JOIN stakeholder_channels c ON c.id = claimed.channel_id
                """)
            var claimed: [UUID: Claimed] = [:]
            for row in rows {
                let (id, notification, channel, type, stakeholder, payload, attempts, created, address, secret, previous, disabled) = try row.decode(
                    (UUID, UUID, UUID, String, UUID, String, Int, Date, String?, String?, String?, Bool).self)
                // A channel deleted with its stakeholder counts as disabled.
                var entry = claimed[notification] ?? Claimed(
                    id: notification, deliveryIDs: [], channelID: channel, channelType: ChannelType(rawValue: type) ?? .webhook,
                    stakeholderID: stakeholder, payloads: [], attempts: attempts, createdAt: created, address: address,
                    secrets: [secret, previous].compactMap { $0 }, channelDisabled: disabled)
                entry.deliveryIDs.append(id)
                entry.payloads.append(Array(payload.utf8))
                entry.attempts = max(entry.attempts, attempts)
                entry.createdAt = min(entry.createdAt, created)
                claimed[notification] = entry
            }
            // Delivery-id order, so every attempt sends the same body.
            let notifications = claimed.values.map { notification in
                var sorted = notification
                let order = zip(notification.deliveryIDs, notification.payloads).sorted { $0.0.uuidString < $1.0.uuidString }
                sorted.deliveryIDs = order.map(\.0)
                sorted.payloads = order.map(\.1)
                return sorted
            }
            return Claim(notifications: notifications, reachedLimit: due.count == limit)
        }
    }

    /// Per-recipient rate limit: at most `limit` new notifications per channel per hour. A new
    /// group over the limit is not formed now: its deliveries wait for the channel's window to
    /// end (and may then travel together). Severity 5 always goes. Groups already formed
    /// (retries) are not counted again. Returns the leaders of the groups held back.
    static func applyRateLimit(
        formed: [UUID: (channel: UUID, members: [UUID])], urgent: Set<UUID>, limit: Int, connection: PostgresConnection
    ) async throws -> Set<UUID> {
        guard !formed.isEmpty else { return [] }
        var windows: [UUID: (start: Date, count: Int)] = [:]
        for row in try await connection.query("""
            SELECT id, CASE WHEN window_started_at > now() - interval '1 hour' THEN window_started_at ELSE now() END,
                   CASE WHEN window_started_at > now() - interval '1 hour' THEN window_count ELSE 0 END
            FROM stakeholder_channels WHERE id = ANY(\(Array(Set(formed.values.map(\.channel))))) FOR UPDATE
            """) {
            let (id, start, count) = try row.decode((UUID, Date, Int).self)
            windows[id] = (start, count)
        }
        var heldBack = Set<UUID>()
        var postponed: [UUID] = []
        var until: [Date] = []
        // In leader order, so which group of a channel goes first does not depend on hashing.
        for (leader, group) in formed.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            guard var window = windows[group.channel] else { continue }
            if window.count >= limit && !group.members.contains(where: urgent.contains) {
                heldBack.insert(leader)
                postponed += group.members
                until += Array(repeating: window.start.addingTimeInterval(3600), count: group.members.count)
                continue
            }
            window.count += 1
            windows[group.channel] = window
        }
        if !postponed.isEmpty {
            try await connection.execute("""
                UPDATE deliveries d SET next_attempt_at = u.until
                FROM unnest(\(postponed)::uuid[], \(until)::timestamptz[]) AS u(id, until) WHERE d.id = u.id
                """)
            Counter(label: "coalition_fanout_rate_limited_total").increment(by: postponed.count)
        }
        if !windows.isEmpty {
            let ids = Array(windows.keys)
            try await connection.execute("""
                UPDATE stakeholder_channels c SET window_started_at = u.start, window_count = u.count
                FROM unnest(\(ids)::uuid[], \(ids.map { windows[$0]!.start })::timestamptz[], \(ids.map { windows[$0]!.count })::int[]) AS u(id, start, count)
                WHERE c.id = u.id
                """)
        }
        return heldBack
    }

    /// Records the result of one attempt for every delivery of the notification: the new state,
    /// the channel's failure count, and the outbox events of a terminal state or a disabled
    /// endpoint, in one transaction.
    public func record(_ result: Result, for delivery: Claimed, disableAfterFailures: Int, now: Date = Date()) async throws {
        try await recordAll([(result, delivery)], disableAfterFailures: disableAfterFailures, now: now)
    }

    /// The results of a whole sending round in one transaction. Successes — nearly everything —
    /// are written with one statement for all of them; the rest one by one.
    public func recordAll(_ results: [(Result, Claimed)], disableAfterFailures: Int, now: Date = Date()) async throws {
        guard !results.isEmpty else { return }
        try await postgres.withTransaction { connection in
            try await connection.preferIndexScans()
            var events: [OutboxEvent] = []
            var delivered: [(ids: [UUID], status: Int, channel: UUID)] = []
            for (result, delivery) in results {
                if case .delivered(let status) = result {
                    delivered.append((delivery.deliveryIDs, status, delivery.channelID))
                } else {
                    try await apply(result, to: delivery, disableAfterFailures: disableAfterFailures, now: now, events: &events, connection: connection)
                }
            }
            if !delivered.isEmpty {
                let ids = delivered.flatMap(\.ids)
                let statuses = delivered.flatMap { entry in entry.ids.map { _ in entry.status } }
                // The channels were notified whatever the rows say (a lease may have expired
                // meanwhile), so they are updated in the same statement but not through its join.
                let rows = try await connection.query("""
                    WITH notified AS (
                        UPDATE stakeholder_channels SET consecutive_failures = 0, last_notified_at = \(now)
                        WHERE id = ANY(\(Array(Set(delivered.map(\.channel)))))
                    )
                    UPDATE deliveries d SET state = 'delivered', last_status = u.status, last_error = NULL, finished_at = \(now),
                                            updated_at = \(now), lease_until = NULL
                    FROM unnest(\(ids)::uuid[], \(statuses)::int[]) AS u(id, status)
                    WHERE d.id = u.id AND ARRAY[d.state] <@ \(DeliveryState.sources(of: .delivered))
                    RETURNING \(unsafeSQL: Self.qualifiedOutcomeColumns)
                    """)
                for row in rows {
                    let outcome = try Self.outcome(from: row)
                    events.append(try outcome.outboxEvent)
                    Self.count(outcome, state: .delivered)
                }
            }
            try await Outbox.enqueue(events, in: connection)
        }
    }

    private func apply(
        _ result: Result, to delivery: Claimed, disableAfterFailures: Int, now: Date, events: inout [OutboxEvent], connection: PostgresConnection
    ) async throws {
        switch result {
        case .delivered(let status):
            try await finish(delivery.deliveryIDs, state: .delivered, status: status, error: nil, now: now, events: &events, connection: connection)
            try await connection.execute("""
                UPDATE stakeholder_channels SET consecutive_failures = 0, last_notified_at = \(now) WHERE id = \(delivery.channelID)
                """)
        case .retry(let at, let status, let error):
            try await connection.execute("""
                UPDATE deliveries SET state = 'retrying', next_attempt_at = \(at), lease_until = NULL, last_status = \(status),
                                      last_error = \(error), updated_at = \(now)
                WHERE id = ANY(\(delivery.deliveryIDs)) AND ARRAY[state] <@ \(DeliveryState.sources(of: .retrying))
                """)
            // A receiver asking us to slow down (429) is working, not failing.
            let failures = status == 429 ? 0 : try await connection.query("""
                UPDATE stakeholder_channels SET consecutive_failures = consecutive_failures + 1 WHERE id = \(delivery.channelID)
                RETURNING consecutive_failures
                """).first?.decode(0, as: Int.self) ?? 0
            if failures >= disableAfterFailures {
                try await disable(delivery, reason: "\(failures) consecutive failed attempts (last: \(error))", now: now, events: &events, connection: connection)
            }
        case .failed(let status, let error):
            try await finish(delivery.deliveryIDs, state: .failed, status: status, error: error, now: now, events: &events, connection: connection)
        case .suppressed(let reason):
            try await finish(delivery.deliveryIDs, state: .suppressed, status: nil, error: reason, now: now, events: &events, connection: connection)
        case .failedAndDisable(let status, let error, let reason):
            try await finish(delivery.deliveryIDs, state: .failed, status: status, error: error, now: now, events: &events, connection: connection)
            try await disable(delivery, reason: reason, now: now, events: &events, connection: connection)
        }
    }

    static func count(_ outcome: DeliveryOutcome, state: DeliveryState) {
        Counter(label: "coalition_fanout_deliveries_total", dimensions: [("channel", outcome.channel.rawValue), ("outcome", state.rawValue)]).increment()
        if let latency = outcome.latencyMs, state == .delivered {
            Timer(label: "coalition_fanout_delivery_latency_seconds", dimensions: [("channel", outcome.channel.rawValue)]).recordMilliseconds(latency)
        }
    }

    private func finish(
        _ ids: [UUID], state: DeliveryState, status: Int?, error: String?, now: Date, events: inout [OutboxEvent], connection: PostgresConnection
    ) async throws {
        let rows = try await connection.query("""
            UPDATE deliveries SET state = \(state.rawValue), last_status = \(status), last_error = \(error), finished_at = \(now),
                                  updated_at = \(now), lease_until = NULL
            WHERE id = ANY(\(ids)) AND ARRAY[state] <@ \(DeliveryState.sources(of: state))
            RETURNING \(unsafeSQL: Self.outcomeColumns)
            """)
        for row in rows {
            let outcome = try Self.outcome(from: row)
            events.append(try outcome.outboxEvent)
            Self.count(outcome, state: state)
        }
    }

    private func disable(_ delivery: Claimed, reason: String, now: Date, events: inout [OutboxEvent], connection: PostgresConnection) async throws {
        let changed = try await connection.execute("""
            UPDATE stakeholder_channels SET disabled_at = \(now), disabled_reason = \(reason) WHERE id = \(delivery.channelID) AND disabled_at IS NULL
            """)
        guard changed == 1 else { return }
        logger.error("endpoint disabled", metadata: ["channel.id": "\(delivery.channelID.uuidString.lowercased())", "reason": "\(reason)"])
        Counter(label: "coalition_fanout_endpoints_disabled_total").increment()
        events.append(try EndpointDisabled(channelId: delivery.channelID, stakeholderId: delivery.stakeholderID, reason: reason, disabledAt: now).outboxEvent)
    }

    /// Deliveries for operators (`GET /v1/deliveries`), newest first.
    public func list(incident: UUID?, stakeholder: UUID?, state: DeliveryState?, limit: Int) async throws -> [DeliveryRecord] {
        var query: PostgresQuery = """
            SELECT id, incident_id, revision, reason, stakeholder_id, role, channel_id, channel_type, state, attempts, next_attempt_at,
                   last_status, last_error, created_at, finished_at
            FROM deliveries WHERE true
            """
        if let incident { query.append(" AND incident_id = \(incident)") }
        if let stakeholder { query.append(" AND stakeholder_id = \(stakeholder)") }
        if let state { query.append(" AND state = \(state.rawValue)") }
        query.append(" ORDER BY created_at DESC, id LIMIT \(limit)")
        return try await postgres.query(query).map { row in
            let (id, incident, revision, reason, stakeholder, role, channel, type) = try row.decode((UUID, UUID?, Int?, String, UUID, String, UUID, String).self)
            let (state, attempts, next, status, error, created, finished) = try (
                row.decode(8, as: String.self), row.decode(9, as: Int.self), row.decode(10, as: Date.self), row.decode(11, as: Int?.self),
                row.decode(12, as: String?.self), row.decode(13, as: Date.self), row.decode(14, as: Date?.self))
            let parsedState = DeliveryState(rawValue: state) ?? .failed
            return DeliveryRecord(
                id: id, incidentId: incident?.uuidString.lowercased(), revision: revision, reason: reason, stakeholderId: stakeholder,
                role: StakeholderRole(rawValue: role) ?? .resident, channelId: channel, channel: ChannelType(rawValue: type) ?? .webhook,
                state: parsedState, attempts: attempts, nextAttemptAt: parsedState.isTerminal ? nil : next, lastStatus: status, lastError: error,
                createdAt: created, finishedAt: finished)
        }
    }

    /// Deliveries about the incident itself, not requests (`alerts.requested`) that mention it.
    static let incidentReasons = "(reason IN ('new', 'closure') OR reason LIKE 'escalation-%')"

    static let outcomeColumns = """
        id, incident_id, revision, reason, stakeholder_id, role, channel_id, channel_type, severity, state, attempts, last_status,
        last_error, ingested_at, created_at, finished_at
        """

    /// `outcomeColumns` of the `deliveries d` in a join.
    static let qualifiedOutcomeColumns = outcomeColumns.split(separator: ",")
        .map { "d." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")

    static func outcome(from row: PostgresRow) throws -> DeliveryOutcome {
        let (id, incident, revision, reason, stakeholder, role, channel, type) = try row.decode((UUID, UUID?, Int?, String, UUID, String, UUID, String).self)
        let (severity, state, attempts, status, error, ingested, created, finished) = try (
            row.decode(8, as: Int.self), row.decode(9, as: String.self), row.decode(10, as: Int.self), row.decode(11, as: Int?.self),
            row.decode(12, as: String?.self), row.decode(13, as: Date?.self), row.decode(14, as: Date.self), row.decode(15, as: Date.self))
        return DeliveryOutcome(
            deliveryId: id, incidentId: incident?.uuidString.lowercased(), revision: revision, reason: reason, stakeholderId: stakeholder,
            role: StakeholderRole(rawValue: role) ?? .resident, channelId: channel, channel: ChannelType(rawValue: type) ?? .webhook,
            severity: severity, outcome: DeliveryState(rawValue: state) ?? .failed, attempts: attempts, lastStatus: status, error: error,
            ingestedAt: ingested, createdAt: created, finishedAt: finished,
            latencyMs: ingested.map { Int((finished.timeIntervalSince($0) * 1000).rounded()) })
    }
}
