import Contracts
import Foundation
import Kafka
import Logging
import NIOConcurrencyHelpers
import Postgres
import ServiceKit

/// `BENCH_ONLY=metrics`: the metrics aggregator (release build) on the shared broker and
/// database. Throughput over `BENCH_METRICS_EVENTS` (default 1M) incident events read from
/// offset 0 — applied in PostgreSQL and published on the metric topics — against quixstreams
/// counting the same topic into tumbling hour windows by area × category in the same run;
/// end-to-end lag (event produced → its window on `metrics.incidents`) at 10,000 events/s;
/// resident memory along the way.
struct MetricsBench {
    let brokers: String
    let databaseURL: String
    let binaries: URL
    let root: URL
    let logger: Logger
    let events = Int(ProcessInfo.processInfo.environment["BENCH_METRICS_EVENTS"] ?? "") ?? 1_000_000
    let lagRate = 10_000
    let lagSeconds = Int(ProcessInfo.processInfo.environment["BENCH_METRICS_LAG_SECONDS"] ?? "") ?? 20

    static let categories = IncidentCategory.allCases
    static let base32 = Array("0123456789bcdefghjkmnpqrstuvwxyz")

    /// A canonical incident in one of 1,024 cells, each in one of 60 areas (17 neighbouring
    /// cells an area), any category, within 90 days.
    static func incident(_ number: Int, area: String? = nil, occurredAt: Date? = nil) -> CanonicalIncident {
        var random = UInt64(truncatingIfNeeded: number) &* 0x9E37_79B9_7F4A_7C15
        random ^= random >> 29
        let category = categories[Int(random % UInt64(categories.count))]
        let cellIndex = Int((random >> 8) % 1024)
        let cell = "dr5r" + String(base32[cellIndex / 32]) + String(base32[cellIndex % 32]) + "0"
        let time = occurredAt ?? Date(timeIntervalSince1970: 1_735_689_600 + Double((random >> 20) % (90 * 86_400)))
        return CanonicalIncident(
            id: UUID(version5: UUID(uuidString: "00000000-0000-0000-0000-00000000beef")!, name: Array("bench-\(number)".utf8)), revision: 1,
            source: "bench", externalId: "\(number)", category: category, sourceCategory: category.rawValue, categoryGroup: category.group,
            occurredAt: time, areaId: area ?? "area-\(cellIndex * 60 / 1024)", cell: cell, severity: category.defaultSeverity,
            sensitive: category.isSensitive, ingestedAt: time)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// quixstreams counting `topic` from offset 0 (Benchmarks/Metrics/quixstreams_peer.py in
    /// `.local/venv-quix`); its events/s, or nil when it could not run (said why).
    func runQuixstreams(topic: String) throws -> Double? {
        let python = root.appendingPathComponent(".local/venv-quix/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            say("metrics: quixstreams peer not run: \(python.path) missing (make bench installs it)")
            return nil
        }
        let stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("quixstreams-peer-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: stateDirectory) }
        say("metrics: quixstreams counting the same \(events) events (group_by area/category, tumbling 1 h, grace 10 years)")
        let process = Process()
        process.executableURL = python
        process.arguments = [root.appendingPathComponent("Benchmarks/Metrics/quixstreams_peer.py").path, brokers, topic, String(events), stateDirectory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 1800, execute: killer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        guard let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let rate = object["events_per_second"] as? Double, let seconds = object["seconds"] as? Double
        else {
            say("metrics: quixstreams peer gave no result (exit \(process.terminationStatus))")
            return nil
        }
        say("metrics: quixstreams counted \(events) events in \(String(format: "%.1f", seconds)) s: \(Int(rate)) events/s")
        return rate
    }

    static func record(_ incident: CanonicalIncident, topic: String, time: Date = Date()) throws -> KafkaRecord {
        let key = incident.id.uuidString.lowercased()
        return try CloudEvent(id: "\(key)#1", source: "/bench", type: EventType.incident, time: time, subject: key, payload: incident)
            .kafkaRecord(topic: topic, key: key)
    }

    func run() async throws -> [BenchResult] {
        let stamp = UUID().uuidString.prefix(8).lowercased()
        let database = "bench_metrics_\(stamp)"
        let admin = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: logger)
        defer { admin.shutdown() }
        try await admin.withConnection { try await $0.executeScript(unsafeSQL: "CREATE DATABASE \(database)") }
        let benchURL = IngestionBench.replacingDatabase(in: databaseURL, with: database)
        let prefix = "benchmet\(stamp)."
        let topic = prefix + "incidents.normalized"
        let environment = ["COALITION_DATABASE_URL": benchURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_KAFKA_BROKERS": brokers]
        try runCommand(binaries.appendingPathComponent("coalition").path, ["migrate"], environment: environment)
        try runCommand(binaries.appendingPathComponent("coalition").path, ["topics", "create"], environment: environment)
        let postgres = try PostgresClient(configuration: .init(connectionString: benchURL, maxConnections: 2), logger: logger)
        defer { postgres.shutdown() }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: brokers, clientID: "bench", statisticsInterval: .zero)), logger: logger)

        say("metrics: producing \(events) incident events onto \(topic)")
        for start in stride(from: 0, to: events, by: 20_000) {
            let records = try (start..<min(start + 20_000, events)).map { try Self.record(Self.incident($0), topic: topic) }
            try await producer.sendAll(records)
        }

        let service = Process()
        service.executableURL = binaries.appendingPathComponent("metrics-aggregator")
        service.environment = ProcessInfo.processInfo.environment.merging(environment.merging([
            "COALITION_HTTP_PORT": "18184", "COALITION_HTTP_HOST": "127.0.0.1", "MALLOC_ARENA_MAX": "2",
            // BENCH_METRICS_LOG_LEVEL=debug logs each flush's phases to .run/bench/metrics-aggregator.log.
            "COALITION_LOG_LEVEL": ProcessInfo.processInfo.environment["BENCH_METRICS_LOG_LEVEL"] ?? "warning",
            "COALITION_OUTBOX_POLL_INTERVAL": "50ms",
        ]) { _, new in new }) { _, new in new }
        let logFile = root.appendingPathComponent(".run/bench/metrics-aggregator.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        service.standardError = try FileHandle(forWritingTo: logFile)
        try service.run()
        defer { if service.isRunning { service.terminate(); service.waitUntilExit() } }

        func applied() async throws -> Int {
            Int(try await postgres.query("SELECT coalesce(sum(next_offset), 0)::bigint FROM metric_consumer_offsets WHERE topic = \(topic)")
                .first?.decode(0, as: Int64.self) ?? 0)
        }
        // The clock starts at the first applied batch (joining the group is broker-side delay).
        let startDeadline = ContinuousClock.now + .seconds(120)
        while try await applied() == 0, ContinuousClock.now < startDeadline { try await Task.sleep(for: .milliseconds(20)) }
        let started = ContinuousClock.now
        let startCount = try await applied()
        var memoryEarly = -1
        let deadline = ContinuousClock.now + .seconds(1800)
        var done = startCount
        while done < events, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            done = try await applied()
            if memoryEarly < 0, done >= events / 10 { memoryEarly = IngestionBench.residentMegabytes(pid: service.processIdentifier) }
        }
        let appliedSeconds = Self.seconds(ContinuousClock.now - started)
        // Done when the windows are on the metric topics too: every log row published.
        func unpublished() async throws -> Int64 {
            try await postgres.query("SELECT count(*)::bigint FROM metric_update_batches WHERE published_seq IS NULL").first?.decode(0, as: Int64.self) ?? 0
        }
        while try await unpublished() > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let seconds = Self.seconds(ContinuousClock.now - started)
        let rate = Double(done - startCount) / max(seconds, 0.001)
        let memoryAfter = IngestionBench.residentMegabytes(pid: service.processIdentifier)
        let windows = try await postgres.query("SELECT count(*)::bigint FROM metric_values").first?.decode(0, as: Int64.self) ?? 0
        let published = try await postgres.query("SELECT coalesce(sum(entry_count), 0)::bigint FROM metric_update_batches").first?.decode(0, as: Int64.self) ?? 0
        say("metrics: applied \(done) of \(events) in \(String(format: "%.1f", appliedSeconds)) s, published in \(String(format: "%.1f", seconds)) s: \(Int(rate)) events/s")
        say("metrics: \(windows) window rows (4 granularities × area×category, area, group, total), \(published) metric updates sent; exactly once in PostgreSQL")
        say("metrics: resident memory at 10% \(memoryEarly) MB, after all \(memoryAfter) MB")

        // The peer, on the same topic, after ours (the two never share the machine).
        let peer = try runQuixstreams(topic: topic)

        // Lag: one event in 100 is a probe with an area of its own; its first window on the
        // metric topic marks when the event became visible.
        let probes = NIOLockedValueBox<[Int: (sent: ContinuousClock.Instant?, seen: ContinuousClock.Instant?)]>([:])
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: KafkaConfiguration(brokers: brokers, clientID: "bench-lag", statisticsInterval: .zero), groupID: "bench-lag-\(stamp)",
                topics: [prefix + "metrics.incidents"], offsetReset: .latest, sessionTimeout: .seconds(6)),
            logger: logger)
        let assigned = NIOLockedValueBox(false)
        consumer.onRebalance { event in if case .assigned(let partitions) = event, !partitions.isEmpty { assigned.withLockedValue { $0 = true } } }
        let consumerTask = Task { try await consumer.run() }
        let readerTask = Task {
            for try await batch in consumer.batches {
                let now = ContinuousClock.now
                for message in batch {
                    guard let key = message.keyString, let range = key.range(of: "/probe-") else { continue }
                    let rest = key[range.upperBound...]
                    guard let number = Int(rest.prefix { $0.isNumber }) else { continue }
                    probes.withLockedValue { if $0[number]?.seen == nil { $0[number, default: (nil, nil)].seen = now } }
                }
            }
        }
        let joinDeadline = ContinuousClock.now + .seconds(60)
        while !assigned.withLockedValue({ $0 }), ContinuousClock.now < joinDeadline { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(2))

        say("metrics: producing \(lagRate) events/s for \(lagSeconds) s (1 in 100 a probe)")
        let tick = Duration.milliseconds(10)
        let perTick = lagRate / 100
        var next = ContinuousClock.now
        var memorySteady = -1
        for tickIndex in 0..<(lagSeconds * 100) {
            try await Task.sleep(until: next)
            next += tick
            let now = Date()
            var records: [KafkaRecord] = []
            var probeNumbers: [Int] = []
            for offset in 0..<perTick {
                let number = events + tickIndex * perTick + offset
                if offset == 0 {
                    probeNumbers.append(tickIndex)
                    records.append(try Self.record(Self.incident(number, area: "probe-\(tickIndex)", occurredAt: now), topic: topic, time: now))
                } else {
                    records.append(try Self.record(Self.incident(number, occurredAt: now), topic: topic, time: now))
                }
            }
            let sent = ContinuousClock.now
            probes.withLockedValue { for number in probeNumbers { $0[number, default: (nil, nil)].sent = sent } }
            // Not awaited: the producer keeps pipelining while the clock ticks on.
            Task { [producer] in _ = await producer.send(records) }
            if tickIndex == lagSeconds * 50 { memorySteady = IngestionBench.residentMegabytes(pid: service.processIdentifier) }
        }
        let expected = lagSeconds * 100
        let waitDeadline = ContinuousClock.now + .seconds(60)
        while probes.withLockedValue({ $0.values.filter { $0.seen != nil && $0.sent != nil }.count }) < expected, ContinuousClock.now < waitDeadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let memoryEnd = IngestionBench.residentMegabytes(pid: service.processIdentifier)
        consumer.stop()
        readerTask.cancel()
        _ = try? await consumerTask.value
        await producer.shutdown()
        var lags = probes.withLockedValue { probes in
            probes.values.compactMap { entry -> Double? in
                guard let sent = entry.sent, let seen = entry.seen else { return nil }
                let duration = seen - sent
                return Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
            }
        }
        lags.sort()
        let p50 = lags.isEmpty ? .nan : lags[lags.count / 2]
        let p99 = lags.isEmpty ? .nan : lags[min(lags.count - 1, Int(Double(lags.count) * 0.99))]
        say("metrics: lag event produced → window on metrics.incidents, \(lags.count) of \(expected) probes seen: p50 \(String(format: "%.0f", p50)) ms, p99 \(String(format: "%.0f", p99)) ms")
        say("metrics: resident memory during the 10k/s run \(memorySteady) MB, at its end \(memoryEnd) MB")

        service.terminate()
        service.waitUntilExit()
        postgres.shutdown()
        if let kafkaAdmin = try? KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers, statisticsInterval: .zero), logger: logger) {
            try? await kafkaAdmin.deleteTopics((try await kafkaAdmin.topics()).keys.filter { $0.hasPrefix(prefix) })
        }
        try? await admin.withConnection { try await $0.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let peak = Double(max(memoryEarly, memoryAfter, memorySteady, memoryEnd))
        var results: [BenchResult] = []
        if let peer {
            results.append(BenchResult(name: "metrics events/s (all windows, published) vs quixstreams hour × area×category", ours: rate, reference: peer, referenceName: "quixstreams 3.28", unit: "events/s", goal: 5))
        }
        return results + [
            BenchResult(name: "metrics lag p99 at 10k/s", ours: p99, reference: 1000, referenceName: "goal", unit: "ms", goal: 1, lowerIsBetter: true),
            BenchResult(name: "metrics peak RSS", ours: peak, reference: 100, referenceName: "goal", unit: "MB", goal: 1, lowerIsBetter: true),
            BenchResult(name: "metrics RSS after all / at 10%", ours: Double(memoryAfter), reference: Double(max(memoryEarly, 1)), referenceName: "at 10%", unit: "MB", goal: 1.5, lowerIsBetter: true),
        ]
    }
}
