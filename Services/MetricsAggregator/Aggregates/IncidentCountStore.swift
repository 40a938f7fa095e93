import Contracts
import Foundation
import Kafka
import Logging
import NIOConcurrencyHelpers
import Postgres
import ServiceKit

/// Applies batches of `incidents.normalized` records to the incident counts: the per-incident
/// state, the window rows, their metric events (outbox) and the consumed offsets, all in one
/// PostgreSQL transaction. Records below the stored offset of their partition were applied
/// before (a redelivery after a crash) and are skipped, so each record takes effect once.
public final class IncidentCountStore: Sendable {
    public static let metric = "incidents"

    let postgres: PostgresClient
    let consumer: String
    let calendar: WindowCalendar
    let grace: Duration
    let suppression: SuppressionRule
    let hotspots: HotspotTracker
    let logger: Logger
    /// The bounded window cache and the event-time watermark (latest `occurred_at` seen).
    private let state: NIOLockedValueBox<(cache: WindowCache, watermark: Date?)>

    public init(
        postgres: PostgresClient, consumer: String, calendar: WindowCalendar, grace: Duration, suppression: SuppressionRule,
        hotspotRule: HotspotRule = HotspotRule(), logger: Logger
    ) {
        self.hotspots = HotspotTracker(rule: hotspotRule)
        self.postgres = postgres
        self.consumer = consumer
        self.calendar = calendar
        self.grace = grace
        self.suppression = suppression
        self.logger = logger
        self.state = NIOLockedValueBox((WindowCache(calendar: calendar), nil))
    }

    /// A record of the batch: an incident revision, or something to park on the dead-letter topic.
    public enum Input: Sendable {
        case incident(CountedIncident)
        case invalid(code: String, reason: String)
    }

    /// What a batch did: how many records it applied and which rows changed.
    public struct Outcome: Sendable {
        public var skippedAsApplied = 0
        public var changedIncidents = 0
        public var changedWindows = 0
        public var hotspotEpisodes = 0
        public var invalid: [(message: KafkaMessage, code: String, reason: String)] = []
    }

    /// Where this consumer's state ends for `partitions` (the next offset to read each).
    public func storedOffsets(_ partitions: [KafkaTopicPartition]) async throws -> [KafkaTopicPartition: Int64] {
        let topics = Array(Set(partitions.map(\.topic)))
        var offsets: [KafkaTopicPartition: Int64] = [:]
        for row in try await postgres.query("""
            SELECT topic, partition, next_offset FROM metric_consumer_offsets WHERE consumer = \(consumer) AND topic = ANY(\(topics))
            """) {
            let (topic, partition, offset) = try row.decode((String, Int32, Int64).self)
            offsets[KafkaTopicPartition(topic: topic, partition: partition)] = offset
        }
        return offsets
    }

    /// Applies `batch` (each message with what it decoded to) in one transaction; `parkInvalid`
    /// runs inside it for the records not applied before that could not be read.
    @discardableResult
    public func apply(
        _ batch: [(message: KafkaMessage, input: Input)], now: Date = Date(),
        parkInvalid: ([(message: KafkaMessage, code: String, reason: String)]) async throws -> Void = { _ in }
    ) async throws -> Outcome {
        guard !batch.isEmpty else { return Outcome() }
        let cache = state.withLockedValue { $0.cache }
        let result = try await postgres.withTransaction { connection -> (Outcome, WindowCache, Date?) in
            var outcome = Outcome()
            // Lock this consumer's offsets of the batch's topics: a second instance applying
            // the same partition (during a rebalance) waits here and then skips what we did.
            let topics = Array(Set(batch.map(\.message.topic)))
            var stored: [KafkaTopicPartition: Int64] = [:]
            for row in try await connection.query("""
                SELECT topic, partition, next_offset FROM metric_consumer_offsets
                WHERE consumer = \(consumer) AND topic = ANY(\(topics)) ORDER BY topic, partition FOR UPDATE
                """) {
                let (topic, partition, offset) = try row.decode((String, Int32, Int64).self)
                stored[KafkaTopicPartition(topic: topic, partition: partition)] = offset
            }
            var next = stored
            var fresh: [(message: KafkaMessage, input: Input)] = []
            for item in batch {
                let partition = KafkaTopicPartition(topic: item.message.topic, partition: item.message.partition)
                if item.message.offset < stored[partition] ?? 0 {
                    outcome.skippedAsApplied += 1
                    continue
                }
                next[partition] = max(next[partition] ?? 0, item.message.offset + 1)
                fresh.append(item)
            }
            guard !fresh.isEmpty else { return (outcome, cache, nil) }

            var incidents: [CountedIncident] = []
            for item in fresh {
                switch item.input {
                case .incident(let incident): incidents.append(incident)
                case .invalid(let code, let reason): outcome.invalid.append((item.message, code, reason))
                }
            }
            if !outcome.invalid.isEmpty { try await parkInvalid(outcome.invalid) }

            var counter = IncidentCounter(cache: cache)
            var watermark: Date?
            if !incidents.isEmpty {
                let previous = try await Self.load(Array(Set(incidents.map(\.id))), in: connection)
                for incident in incidents {
                    counter.apply(incident, previous: previous[incident.id])
                    watermark = max(watermark ?? incident.occurredAt, incident.occurredAt)
                }
                outcome.changedIncidents = counter.changed.count
                try await Self.save(Array(counter.changed.values), in: connection)
                try await Self.writeCellDays(counter.cellDays, in: connection)
                let currentWatermark = try await self.watermark(at: watermark, in: connection)
                let counts = try await writeCounts(counter.netDeltas, in: connection)
                try await publish(counts, metric: Self.metric, topic: .metricsIncidents, watermark: currentWatermark, now: now, in: connection)
                let responseTimes = try await ResponseTimes.recompute(counter.responseTimeKeys, in: connection)
                try await publish(responseTimes, metric: ResponseTimes.metric, topic: .metricsResponseTimes, watermark: currentWatermark, now: now, in: connection)
                outcome.changedWindows = counts.count + responseTimes.count
                // Hotspots are judged at the event-time watermark (never more than a day
                // ahead of the clock, so one mistyped year cannot end every episode).
                if let reference = currentWatermark.map({ min($0, now.addingTimeInterval(86_400)) }) {
                    outcome.hotspotEpisodes = try await hotspots.evaluate(cells: counter.cells, at: reference, now: now, in: connection).count
                }
            }
            try await connection.execute("""
                INSERT INTO metric_consumer_offsets (consumer, topic, partition, next_offset)
                SELECT \(consumer), u.topic, u.partition, u.next_offset
                FROM unnest(\(next.keys.map(\.topic))::text[], \(next.keys.map(\.partition))::int[], \(Array(next.values))::bigint[]) AS u(topic, partition, next_offset)
                ON CONFLICT (consumer, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
                """)
            return (outcome, counter.windowCache, watermark)
        }
        state.withLockedValue { state in
            state.cache = result.1
            if let watermark = result.2 { state.watermark = max(state.watermark ?? watermark, watermark) }
        }
        return result.0
    }

    /// What `rebuild` did.
    public struct RebuildSummary: Sendable {
        public var incidents = 0
        public var changedWindows = 0
    }

    /// Recounts the incidents that occurred in [from, to) from the `incidents` table (their
    /// latest revision as stored there, under the current category mapping), in one
    /// transaction: each incident's old contribution is taken away and its current one added,
    /// and every window that changes is re-emitted. Incidents that moved out of the range
    /// are recounted too. Incidents deleted from `incidents` are left as they are.
    public func rebuild(from: Date, to: Date, now: Date = Date()) async throws -> RebuildSummary {
        let cache = state.withLockedValue { $0.cache }
        return try await postgres.withTransaction { connection in
            var summary = RebuildSummary()
            var current: [UUID: CountedIncident] = [:]
            for row in try await connection.query("""
                SELECT document::text FROM incidents
                WHERE (occurred_at >= \(from) AND occurred_at < \(to))
                   OR id IN (SELECT incident_id FROM metric_incident_state WHERE occurred_at >= \(from) AND occurred_at < \(to))
                """) {
                let incident = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(try row.decode(0, as: String.self).utf8))
                current[incident.id] = CountedIncident(incident)
            }
            let previous = try await Self.load(Array(current.keys), in: connection)
            var counter = IncidentCounter(cache: cache)
            for (id, incident) in current.sorted(by: { $0.key.uuidString < $1.key.uuidString }) where previous[id] != incident {
                counter.replace(previous[id], with: incident)
            }
            summary.incidents = current.count
            try await Self.save(Array(counter.changed.values), in: connection)
            try await Self.writeCellDays(counter.cellDays, in: connection)
            let watermark = try await self.watermark(at: nil, in: connection)
            let counts = try await writeCounts(counter.netDeltas, in: connection)
            try await publish(counts, metric: Self.metric, topic: .metricsIncidents, watermark: watermark, now: now, in: connection)
            let responseTimes = try await ResponseTimes.recompute(counter.responseTimeKeys, in: connection)
            try await publish(responseTimes, metric: ResponseTimes.metric, topic: .metricsResponseTimes, watermark: watermark, now: now, in: connection)
            summary.changedWindows = counts.count + responseTimes.count
            return summary
        }
    }

    /// The latest `occurred_at` counted so far, including `batchLatest`.
    private func watermark(at batchLatest: Date?, in connection: PostgresConnection) async throws -> Date? {
        if let known = state.withLockedValue({ $0.watermark }) {
            return max(known, batchLatest ?? known)
        }
        let stored = try await connection.query("SELECT max(occurred_at) FROM metric_incident_state").first?.decode(0, as: Date?.self)
        let latest = [stored ?? nil, batchLatest].compactMap { $0 }.max()
        return latest
    }

    static func load(_ ids: [UUID], in connection: PostgresConnection) async throws -> [UUID: CountedIncident] {
        var result: [UUID: CountedIncident] = [:]
        for row in try await connection.query("""
            SELECT incident_id, revision, occurred_at, reported_at, closed_at, area_id, category, category_group, cell, sensitive
            FROM metric_incident_state WHERE incident_id = ANY(\(ids))
            """) {
            let (id, revision, occurred, reported, closed, area, category, group, cell, sensitive) =
                try row.decode((UUID, Int, Date, Date?, Date?, String, String, String, String?, Bool).self)
            result[id] = CountedIncident(
                id: id, revision: revision, occurredAt: occurred, reportedAt: reported, closedAt: closed, area: area, category: category,
                group: group, cell: cell, sensitive: sensitive)
        }
        return result
    }

    static func save(_ incidents: [CountedIncident], in connection: PostgresConnection) async throws {
        guard !incidents.isEmpty else { return }
        let sorted = incidents.sorted { $0.id.uuidString < $1.id.uuidString }
        try await connection.execute("""
            INSERT INTO metric_incident_state (incident_id, revision, occurred_at, reported_at, closed_at, area_id, category, category_group, cell, sensitive)
            SELECT * FROM unnest(\(sorted.map(\.id))::uuid[], \(sorted.map(\.revision))::int[], \(sorted.map(\.occurredAt))::timestamptz[],
                                 \(sorted.map(\.reportedAt))::timestamptz[], \(sorted.map(\.closedAt))::timestamptz[], \(sorted.map(\.area))::text[],
                                 \(sorted.map(\.category))::text[], \(sorted.map(\.group))::text[], \(sorted.map(\.cell))::text[], \(sorted.map(\.sensitive))::boolean[])
            ON CONFLICT (incident_id) DO UPDATE SET
                revision = EXCLUDED.revision, occurred_at = EXCLUDED.occurred_at, reported_at = EXCLUDED.reported_at,
                closed_at = EXCLUDED.closed_at, area_id = EXCLUDED.area_id, category = EXCLUDED.category,
                category_group = EXCLUDED.category_group, cell = EXCLUDED.cell, sensitive = EXCLUDED.sensitive, updated_at = now()
            """)
    }

    static func writeCellDays(_ deltas: [IncidentCounter.CellDay: Int], in connection: PostgresConnection) async throws {
        let changes = deltas.filter { $0.value != 0 }.sorted { ($0.key.cell, $0.key.day, $0.key.area) < ($1.key.cell, $1.key.day, $1.key.area) }
        guard !changes.isEmpty else { return }
        try await connection.execute("""
            INSERT INTO metric_cell_days (cell, day, area_id, count)
            SELECT * FROM unnest(\(changes.map(\.key.cell))::text[], \(changes.map(\.key.day))::bigint[], \(changes.map(\.key.area))::text[],
                                 \(changes.map(\.value))::int[])
            ON CONFLICT (cell, day, area_id) DO UPDATE SET count = metric_cell_days.count + EXCLUDED.count
            """)
    }

    /// One changed aggregate row, ready to publish.
    struct ChangedRow {
        var key: WindowKey
        var count: Int64
        var values: [String: Double?]
        var revision: Int64
    }

    static func lookupKey(_ granularity: String, _ dimensionKey: String, _ epoch: Int64) -> String {
        granularity + "|" + dimensionKey + "|" + String(epoch)
    }

    /// Adds the deltas to their rows; returns the rows as they are now.
    private func writeCounts(_ deltas: [(key: WindowKey, delta: Int64)], in connection: PostgresConnection) async throws -> [ChangedRow] {
        guard !deltas.isEmpty else { return [] }
        var byKey: [String: WindowKey] = [:]
        var granularities: [String] = [], starts: [Date] = [], ends: [Date] = [], dimensionKeys: [String] = [], dimensions: [String] = [], counts: [Int64] = []
        for (key, delta) in deltas {
            byKey[Self.lookupKey(key.granularity.rawValue, key.dimensions.key, Int64(key.start.timeIntervalSince1970))] = key
            granularities.append(key.granularity.rawValue)
            starts.append(key.start)
            ends.append(key.end)
            dimensionKeys.append(key.dimensions.key)
            dimensions.append(Self.json(key.dimensions.object))
            counts.append(delta)
        }
        let rows = try await connection.query("""
            INSERT INTO metric_windows (metric, granularity, window_start, dimension_key, window_end, dimensions, count)
            SELECT \(Self.metric), u.g, u.s, u.k, u.e, u.d::jsonb, u.c
            FROM unnest(\(granularities)::text[], \(starts)::timestamptz[], \(dimensionKeys)::text[], \(ends)::timestamptz[],
                        \(dimensions)::text[], \(counts)::bigint[]) AS u(g, s, k, e, d, c)
            ON CONFLICT (metric, granularity, window_start, dimension_key)
            DO UPDATE SET count = metric_windows.count + EXCLUDED.count, revision = metric_windows.revision + 1, updated_at = now()
            RETURNING granularity, extract(epoch FROM window_start)::bigint, dimension_key, count, revision
            """)
        return try rows.compactMap { row in
            let (granularity, epoch, dimensionKey, count, revision) = try row.decode((String, Int64, String, Int64, Int64).self)
            guard let key = byKey[Self.lookupKey(granularity, dimensionKey, epoch)] else { return nil }
            return ChangedRow(key: key, count: count, values: ["count": Double(count)], revision: revision)
        }
    }

    /// Queues one `coalition.metric.v1` event per changed row (outbox) and records it for the
    /// live stream. Public outputs withhold a sensitive category's count below `k`.
    func publish(_ rows: [ChangedRow], metric: String, topic: Topic, watermark: Date?, now: Date, in connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        var events: [OutboxEvent] = []
        var updateKeys: [String] = [], updatePayloads: [String] = []
        events.reserveCapacity(rows.count)
        let graceSeconds = Double(grace.components.seconds)
        for row in rows {
            let withheld = suppression.withholds(count: row.count, sensitive: SuppressionRule.isSensitive(row.key.dimensions))
            let message = MetricMessage(
                metric: metric, granularity: row.key.granularity, windowStart: row.key.start, windowEnd: row.key.end,
                dimensions: row.key.dimensions.object, values: withheld ? row.values.mapValues { _ in nil } : row.values, revision: row.revision,
                final: watermark.map { row.key.end.addingTimeInterval(graceSeconds) <= $0 } ?? false,
                suppressed: withheld ? true : nil, computedAt: now)
            let event = try message.outboxEvent(topic: topic, key: row.key.messageKey)
            events.append(event)
            updateKeys.append(row.key.messageKey)
            updatePayloads.append(String(decoding: event.event.data, as: UTF8.self))
        }
        try await Outbox.enqueue(events, in: connection)
        try await connection.execute("""
            INSERT INTO metric_updates (metric, message_key, payload)
            SELECT \(metric), u.k, u.p::jsonb FROM unnest(\(updateKeys)::text[], \(updatePayloads)::text[]) WITH ORDINALITY AS u(k, p, n) ORDER BY u.n
            """)
    }

    static func json(_ object: [String: String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
