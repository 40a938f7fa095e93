import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceKit
import ServiceLifecycle

/// Consumes `incidents.normalized` in the `alert-fanout` group: matches each revision against
/// the in-memory index and writes the planned deliveries (and cancellations) in one
/// transaction per batch; offsets are marked only after it commits. Delivery ids are
/// deterministic, so a batch redelivered after a crash inserts nothing new.
public struct IncidentAlertIntake: Service {
    public static let consumerGroup = "alert-fanout"

    let consumer: KafkaConsumer
    let catalog: SubscriptionCatalog
    let postgres: PostgresClient
    let deadLetters: DeadLetterPublisher
    /// Incidents that happened longer ago than this are not alerted when first seen
    /// (a historical import is not news); escalations and closures of notified ones still are.
    let maximumAge: Duration
    let policy: DeliveryPolicy
    let capFeed: CAPFeed?
    let logger: Logger
    let clock: @Sendable () -> Date

    public init(
        consumer: KafkaConsumer, catalog: SubscriptionCatalog, postgres: PostgresClient, producer: KafkaProducer, groupID: String,
        maximumAge: Duration, policy: DeliveryPolicy, capFeed: CAPFeed?, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.policy = policy
        self.capFeed = capFeed
        self.consumer = consumer
        self.catalog = catalog
        self.postgres = postgres
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.maximumAge = maximumAge
        self.logger = logger
        self.clock = clock
    }

    public static func makeConsumer(_ configuration: CommonConfiguration, logger: Logger) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: configuration.kafka, groupID: configuration.consumerGroup(consumerGroup),
                topics: [configuration.topic(.incidentsNormalized)], sessionTimeout: configuration.kafkaSessionTimeout),
            logger: logger)
    }

    public func run() async throws {
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            try await process(batch)
            try consumer.markProcessed(batch)
        }
    }

    func process(_ batch: [KafkaMessage]) async throws {
        var decoded: [(message: KafkaMessage, incident: CanonicalIncident)] = []
        for message in batch {
            do {
                decoded.append((message, try Self.decode(message)))
            } catch {
                logger.warning("unreadable record parked on the dead-letter topic", metadata: ["offset": "\(message.offset)", "error": "\(error)"])
                try await deadLetters.send(message, errorCode: "invalid_incident_event", errorMessage: "\(error)")
            }
        }
        guard !decoded.isEmpty else { return }
        let index = catalog.index
        do {
            try await storeRetrying(decoded.map(\.incident), index: index)
        } catch let error as PostgresError where !error.isRetriable {
            // Something in this batch the database refuses: find it one record at a time and
            // park only that one, so the stream never stalls on it.
            logger.error("batch refused by the database; retrying record by record", metadata: ["error": "\(error)"])
            for (message, incident) in decoded {
                do {
                    try await storeRetrying([incident], index: index)
                } catch let error as PostgresError where !error.isRetriable {
                    try await deadLetters.send(message, errorCode: "store_refused", errorMessage: error.description)
                }
            }
        }
    }

    private func storeRetrying(_ incidents: [CanonicalIncident], index: SubscriptionIndex) async throws {
        try await retryingWhileDatabaseUnavailable(logger: logger, what: "the batch") { try await store(incidents, index: index) }
    }

    private func store(_ incidents: [CanonicalIncident], index: SubscriptionIndex) async throws {
        let now = clock()
        let ageLimit = Double(maximumAge.components.seconds)
        try await postgres.withTransaction { connection in
            try await connection.preferIndexScans()
            var prior: [UUID: [AlertPlanner.Prior]] = [:]
            for row in try await connection.query("""
                SELECT incident_id, channel_id, reason, severity FROM deliveries
                WHERE incident_id = ANY(\(Array(Set(incidents.map(\.id))))) AND state NOT IN ('cancelled', 'suppressed')
                  AND \(unsafeSQL: DeliveryStore.incidentReasons)
                """) {
                let (incident, channel, reason, severity) = try row.decode((UUID, UUID, String, Int).self)
                prior[incident, default: []].append(.init(channelID: channel, reason: reason, severity: severity))
            }
            // When each channel was last notified, and when its waiting group (if any) goes out:
            // a new alert joins that group rather than starting its own wait.
            var lastNotified: [UUID: Date] = [:]
            var waiting: [UUID: Date] = [:]
            let channels = Array(Set(incidents.flatMap { index.matches($0).flatMap { index.entries[$0].channels.map(\.id) } }))
            if !channels.isEmpty {
                // A notification being sent right now has already gone out for grouping
                // (Alertmanager counts group_interval from the flush, not from the receiver's
                // answer): without it, an alert planned between the send and its record would
                // wait only group_wait and follow the first one almost at once. One statement,
                // so one snapshot: a send is seen either still sending or recorded, never neither.
                for row in try await connection.query("""
                    WITH sending AS (
                        SELECT channel_id, max(updated_at) AS claimed_at FROM deliveries
                        WHERE state = 'sending' AND channel_id = ANY(\(channels)) GROUP BY channel_id)
                    SELECT c.id, c.last_notified_at, s.claimed_at, (
                        SELECT min(next_attempt_at) FROM deliveries
                        WHERE channel_id = c.id AND state = 'pending' AND notification_id IS NULL AND next_attempt_at > \(now))
                    FROM stakeholder_channels c LEFT JOIN sending s ON s.channel_id = c.id WHERE c.id = ANY(\(channels))
                    """) {
                    let (id, last, claimed, due) = try row.decode((UUID, Date?, Date?, Date?).self)
                    // The claim's time is the database's clock; never later than the planner's.
                    let sending = claimed.map { min($0, now) }
                    lastNotified[id] = [last, sending].compactMap { $0 }.max()
                    waiting[id] = due
                }
            }
            // Every planned delivery of the batch goes into one INSERT at the end.
            var rows = DeliveryStore.PlannedRows()
            var capPrevious = try await capFeed?.previousMessages(for: incidents.map(\.id), in: connection) ?? [:]
            for incident in incidents {
                let earlier = prior[incident.id] ?? []
                let fresh = now.timeIntervalSince(incident.occurredAt) <= ageLimit
                if let written = try await capFeed?.record(incident, previous: capPrevious[incident.id], fresh: fresh, at: now, in: connection) {
                    capPrevious[incident.id] = written
                }
                if earlier.isEmpty, !fresh {
                    Counter(label: "coalition_fanout_incidents_too_old_total").increment()
                    continue
                }
                if AlertPlanner.isClosed(incident) {
                    _ = try await DeliveryStore.cancelPending(incident: incident.id, at: now, in: connection)
                }
                let entries = index.matches(incident).map { index.entries[$0] }
                let planned = AlertPlanner.plan(incident, entries: entries, prior: earlier)
                let due = planned.map { plan in
                    let own = policy.due(now: now, severity: incident.severity, preferences: plan.preferences, channelLastNotified: lastNotified[plan.channelID])
                    return min(own, waiting[plan.channelID] ?? own)
                }
                for (plan, time) in zip(planned, due) where time > now { waiting[plan.channelID] = min(time, waiting[plan.channelID] ?? time) }
                try rows.add(planned, due: due, incident: incident)
                prior[incident.id, default: []] += planned.map { .init(channelID: $0.channelID, reason: $0.reason, severity: incident.severity) }
            }
            let created = try await rows.insert(in: connection)
            if created > 0 { try await connection.execute("SELECT pg_notify('coalition_deliveries', '')") }
            Counter(label: "coalition_fanout_deliveries_planned_total").increment(by: created)
        }
    }

    /// A `coalition.incident.v1` event, binary or structured mode, or the bare canonical JSON.
    static func decode(_ message: KafkaMessage) throws -> CanonicalIncident {
        if let event = try CloudEvent(kafkaMessage: message) {
            guard event.type == EventType.incident else { throw DecodeError(message: "unexpected event type \(event.type)") }
            return try event.decodeData(as: CanonicalIncident.self)
        }
        return try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(message.value))
    }

    struct DecodeError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}
