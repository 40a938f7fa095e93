import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport

/// SIGKILL mid-stream, restart: the windows equal both an uninterrupted run's and an
/// independent computation from the generated events.
@Suite("Metrics crash safety", .serialized)
struct MetricsCrashSafetyTests {
    /// 8,000 incidents, each with 1–3 revisions that may move it (day, area, category), and
    /// one in ten records delivered twice; per-incident order as Kafka keeps it.
    static func stream(topic: String) throws -> (records: [KafkaRecord], expected: [String: Int64]) {
        var random = SeededRandom(seed: 20_251_122)
        let categories: [IncidentCategory] = [.theft, .assault, .vandalism, .burglary, .noise, .domesticViolence]
        let base = try Date.ISO8601FormatStyle().parse("2025-02-20T00:00:00Z")
        var records: [KafkaRecord] = []
        var final: [UUID: CanonicalIncident] = [:]
        for _ in 0..<8000 {
            let id = UUID()
            for revision in 1...(1 + Int(random.next() % 3)) {
                let incident = MetricsFixtures.incident(
                    id: id, revision: revision, category: categories[Int(random.next() % UInt64(categories.count))],
                    area: "area-\(random.next() % 12)", occurredAt: base.addingTimeInterval(Double(random.next() % (40 * 86_400))))
                let record = try MetricsFixtures.record(incident, topic: topic)
                records.append(record)
                if random.next() % 10 == 0 { records.append(record) }
                final[id] = incident
            }
        }
        let format = Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day()
        var expected: [String: Int64] = [:]
        for incident in final.values {
            expected["\(incident.occurredAt.formatted(format)) \(incident.areaId) \(incident.category.rawValue)", default: 0] += 1
        }
        return (records, expected)
    }

    @Test("SIGKILL mid-stream and restart: identical to an uninterrupted run and to the independent count")
    func killAndRestart() async throws {
        let prefix = TestEnvironment.uniqueName("metricscrash") + "."
        let topic = prefix + "incidents.normalized"
        try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
            let (records, expected) = try Self.stream(topic: topic)
            try await MetricsFixtures.publish(records)
            let small = ["COALITION_METRICS_BATCH_SIZE": "200"]

            let interrupted = try await withTemporaryDatabase { databaseURL in
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let first = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix, extra: small)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: 1500, timeout: .seconds(120))
                first.process.signal(SIGKILL)
                _ = try await first.process.waitForExit(timeout: .seconds(20))
                let atKill = try await MetricsFixtures.applied(postgres, topic: topic)
                #expect(atKill < records.count, "the kill must land mid-stream: \(atKill) of \(records.count)")

                let second = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix, extra: small)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: records.count)
                #expect(try await MetricsFixtures.applied(postgres, topic: topic) == records.count)
                #expect(try await MetricsFixtures.dailyCounts(postgres, timezone: "UTC") == expected)
                #expect(try await second.stop() == 0)
                return try await MetricsFixtures.snapshot(postgres)
            }

            let uninterrupted = try await withTemporaryDatabase { databaseURL in
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: records.count)
                #expect(try await service.stop() == 0)
                return try await MetricsFixtures.snapshot(postgres)
            }
            #expect(interrupted.count == uninterrupted.count)
            #expect(interrupted == uninterrupted)
        }
    }
}
