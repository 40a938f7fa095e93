import Contracts
import Foundation
import Kafka
import Logging
import NIOConcurrencyHelpers
import Postgres
import ServiceKit

/// Applies flushes of input records to every metric in one PostgreSQL transaction each: the
/// per-incident, per-delivery and per-meeting state, the window rows, the hotspot episodes,
/// the update log (what the publisher sends) and the consumed offsets. Records below the
/// stored offset of their partition were applied before (a redelivery after a crash) and are
/// skipped, so each record takes effect exactly once.
public final class MetricsStore: Sendable {
    let postgres: PostgresClient
    let consumer: String
    let calendar: WindowCalendar
    let grace: Duration
    let dimensions: DimensionSets
    let windows: WindowRows
    let hotspots: HotspotTracker
    let signal: UpdateSignal
    let logger: Logger
    /// The bounded window cache, the event-time watermark (latest `occurred_at` counted) and
    /// the quarter hour up to which every due window has been announced final.
    private let state: NIOLockedValueBox<(cache: WindowCache, watermark: Date?, sweptQuarter: Int64?)>

    /// Event time may run ahead of the clock by this much (clock skew between sources); a
    /// later `occurred_at` (a mistyped year) does not move the watermark past it.
    static let watermarkLead: TimeInterval = 300
    /// Most windows announced final in one flush; the rest follow in the next ones.
    static let finalSweepLimit = 20_000

    public init(
        postgres: PostgresClient, consumer: String, calendar: WindowCalendar, grace: Duration, hotspotRule: HotspotRule = HotspotRule(),
        logger: Logger
    ) {
        self.postgres = postgres
        self.consumer = consumer
        self.calendar = calendar
        self.grace = grace
        self.dimensions = DimensionSets(postgres: postgres)
        self.windows = WindowRows(dimensions: dimensions)
        self.hotspots = HotspotTracker(rule: hotspotRule)
        self.signal = UpdateSignal()
        self.logger = logger
        self.state = NIOLockedValueBox((WindowCache(calendar: calendar), nil, nil))
    }

    /// What a flush did.
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

    /// Applies `flush` in one transaction; `parkInvalid` runs inside it for the records not
    /// applied before that could not be read.
    @discardableResult
    func apply(
        _ flush: [DecodedRecord], now: Date = Date(),
        parkInvalid: ([(message: KafkaMessage, code: String, reason: String)]) async throws -> Void = { _ in }
    ) async throws -> Outcome {
        guard !flush.isEmpty else { return Outcome() }
        let (cache, swept) = state.withLockedValue { ($0.cache, $0.sweptQuarter) }
        var timer = PhaseTimer()
        var sweptNow: Int64?
        let result = try await postgres.withTransaction { connection -> (Outcome, WindowCache, Date?) in
            var outcome = Outcome()
            timer = PhaseTimer()
            // Window and state tables grow fast; before autovacuum has statistics for them the
            // planner would scan them whole (the finality sweep did, every flush).
            try await connection.preferIndexScans()
            let fresh = try await self.fresh(flush, outcome: &outcome, in: connection)
            timer.mark("offsets")
            guard !fresh.isEmpty else { return (outcome, cache, nil) }

            var incidents: [CountedIncident] = []
            var deliveries: [DeliveryOutcomeInput] = []
            var meetings: [(change: MeetingChange, eventID: String)] = []
            var answers: [(response: FeedbackResponse, id: String)] = []
            for record in fresh {
                switch record.input {
                case .incident(let incident): incidents.append(incident)
                case .delivery(let delivery): deliveries.append(delivery)
                case .meeting(let change, let eventID): meetings.append((change, eventID))
                case .feedback(let response, let id): answers.append((response, id))
                case .ignored: break
                case .invalid(let code, let reason): outcome.invalid.append((record.message, code, reason))
                }
            }
            if !outcome.invalid.isEmpty { try await parkInvalid(outcome.invalid) }

            var updates: [MetricUpdate] = []
            var windowCache = cache
            var latest: Date?
            if !incidents.isEmpty {
                let applied = try await IncidentAggregates.apply(incidents, cache: windowCache, timer: &timer, in: connection)
                latest = applied.latest
                let watermark = try await self.watermark(including: latest, now: now, in: connection)
                updates += try await self.write(applied.counter, watermark: watermark, now: now, outcome: &outcome, timer: &timer, in: connection)
                windowCache = applied.counter.windowCache
            }
            let finalUpTo = try await self.finalUpTo(now: now, latest: latest, in: connection)
            if !deliveries.isEmpty {
                let rows = try await AlertOutcomes.record(deliveries, cache: &windowCache, in: connection)
                updates += try await windows.replace(.alerts, try await AlertOutcomes.recompute(rows, in: connection), finalUpTo: finalUpTo, in: connection)
            }
            if !meetings.isEmpty {
                let rows = try await Engagement.apply(meetings, consumer: consumer + ":meetings", cache: &windowCache, in: connection)
                updates += try await windows.replace(.engagement, try await Engagement.recompute(rows, in: connection), finalUpTo: finalUpTo, in: connection)
            }
            if !answers.isEmpty {
                let rows = try await PerceivedSafety.record(answers, cache: &windowCache, in: connection)
                updates += try await windows.replace(
                    .perceivedSafety, try await PerceivedSafety.recompute(rows, in: connection), finalUpTo: finalUpTo, in: connection)
            }
            timer.mark("other_metrics")
            // Windows end on quarter hours (every zone's offset is a multiple of 15 minutes):
            // while the limit stays in the quarter already swept, no window can have come due.
            // Windows written in this flush got their `final` as they were written.
            let quarter = finalUpTo == Int64.min ? nil : Int64((Double(finalUpTo) / 900).rounded(.down))
            sweptNow = swept
            if let quarter, quarter != swept {
                let announced = try await windows.announceFinal(upTo: finalUpTo, limit: Self.finalSweepLimit, in: connection)
                updates += announced
                sweptNow = announced.count < Self.finalSweepLimit ? quarter : nil
            }
            timer.mark("final")
            outcome.changedWindows = updates.count
            try await MetricUpdateLog.append(updates, in: connection)
            try await self.storeOffsets(fresh, in: connection)
            timer.mark("log")
            return (outcome, windowCache, latest)
        }
        timer.mark("commit")
        if logger.logLevel <= .debug {
            var metadata = timer.metadata
            metadata["flush.records"] = "\(flush.count)"
            metadata["flush.updates"] = "\(result.0.changedWindows)"
            logger.debug("flush applied", metadata: metadata)
        }
        state.withLockedValue { state in
            state.cache = result.1
            state.sweptQuarter = sweptNow
            if let latest = result.2 { state.watermark = Self.clamp(max(state.watermark ?? latest, latest), now: now) }
        }
        if result.0.changedWindows > 0 { signal.raise() }
        return result.0
    }

    /// The records of `flush` not applied before, after locking this consumer's offsets of
    /// their topics: a second instance applying the same partition (during a rebalance)
    /// waits here and then skips what the first one did.
    private func fresh(_ flush: [DecodedRecord], outcome: inout Outcome, in connection: PostgresConnection) async throws -> [DecodedRecord] {
        let topics = Array(Set(flush.map(\.message.topic)))
        var stored: [KafkaTopicPartition: Int64] = [:]
        for row in try await connection.query("""
            SELECT topic, partition, next_offset FROM metric_consumer_offsets
            WHERE consumer = \(consumer) AND topic = ANY(\(topics)) ORDER BY topic, partition FOR UPDATE
            """) {
            let (topic, partition, offset) = try row.decode((String, Int32, Int64).self)
            stored[KafkaTopicPartition(topic: topic, partition: partition)] = offset
        }
        var fresh: [DecodedRecord] = []
        fresh.reserveCapacity(flush.count)
        for record in flush {
            if record.message.offset < stored[KafkaTopicPartition(topic: record.message.topic, partition: record.message.partition)] ?? 0 {
                outcome.skippedAsApplied += 1
            } else {
                fresh.append(record)
            }
        }
        return fresh
    }

    private func storeOffsets(_ records: [DecodedRecord], in connection: PostgresConnection) async throws {
        var next: [KafkaTopicPartition: Int64] = [:]
        for record in records {
            let partition = KafkaTopicPartition(topic: record.message.topic, partition: record.message.partition)
            next[partition] = max(next[partition] ?? 0, record.message.offset + 1)
        }
        let sorted = next.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }
        try await connection.execute("""
            INSERT INTO metric_consumer_offsets (consumer, topic, partition, next_offset)
            SELECT \(consumer), u.topic, u.partition, u.next_offset
            FROM unnest(\(sorted.map(\.key.topic))::text[], \(sorted.map(\.key.partition))::int[], \(sorted.map(\.value))::bigint[]) AS u(topic, partition, next_offset)
            ON CONFLICT (consumer, topic, partition) DO UPDATE
            SET next_offset = greatest(metric_consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()
            """)
    }

    /// Writes what `counter` collected — count deltas, hotspot cell counts, response times,
    /// hotspot episodes — and returns the changed window rows.
    func write(
        _ counter: IncidentCounter, watermark: Date?, now: Date, outcome: inout Outcome, timer: inout PhaseTimer, in connection: PostgresConnection
    ) async throws -> [MetricUpdate] {
        outcome.changedIncidents = counter.changed.count
        let finalUpTo = finalUpTo(watermark)
        try await IncidentAggregates.writeCellCounts(counter.cellDays, in: connection)
        timer.mark("cell_counts")
        var updates = try await windows.add(.incidents, counter, finalUpTo: finalUpTo, in: connection)
        timer.mark("incident_windows")
        let responseTimes = try await ResponseTimes.recompute(Set(counter.responseTimeKeys.map(counter.windowKey)), in: connection)
        updates += try await windows.replace(.responseTimes, responseTimes, finalUpTo: finalUpTo, in: connection)
        timer.mark("response_times")
        // Hotspots are judged at the event-time watermark.
        if let watermark, !counter.cells.isEmpty {
            outcome.hotspotEpisodes = try await hotspots.evaluate(cells: counter.cells, at: watermark, now: now, in: connection).count
        }
        timer.mark("hotspots")
        return updates
    }

    /// The latest `occurred_at` counted so far, including `latest`, never more than
    /// `watermarkLead` ahead of `now`.
    private func watermark(including latest: Date?, now: Date, in connection: PostgresConnection) async throws -> Date? {
        var known = state.withLockedValue { $0.watermark }
        if known == nil {
            known = try await connection.query("SELECT max(occurred_at) FROM metric_incident_state").first?.decode(0, as: Date?.self) ?? nil
        }
        guard let value = [known, latest].compactMap({ $0 }).max() else { return nil }
        return Self.clamp(value, now: now)
    }

    private static func clamp(_ watermark: Date, now: Date) -> Date {
        min(watermark, now.addingTimeInterval(watermarkLead))
    }

    private func finalUpTo(now: Date, latest: Date?, in connection: PostgresConnection) async throws -> Int64 {
        finalUpTo(try await watermark(including: latest, now: now, in: connection))
    }

    /// Windows ending at or before this (epoch seconds) are final: the watermark minus the grace period.
    private func finalUpTo(_ watermark: Date?) -> Int64 {
        guard let watermark else { return Int64.min }
        return Int64((watermark.timeIntervalSince1970 - Double(grace.components.seconds)).rounded(.down))
    }

    var windowCache: WindowCache { state.withLockedValue { $0.cache } }
}
