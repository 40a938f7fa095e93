import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

/// The three real datasets through the ingestion library, their events through Kafka into the
/// real aggregator; every daily count by area and category must equal an independent SQL
/// computation over the `incidents` table. Then a replay from offset 0 into an empty
/// database, and a replay over the existing state, must both give the same windows.
@Suite("Metrics ground truth on the real datasets", .serialized)
struct MetricsGroundTruthTests {
    static let datasets = [
        ("nyc-311", "nyc_311_animal_complaints_2025-03.csv", "America/New_York"),
        ("sfpd-incidents", "sf_police_incident_reports_2018-12.csv", "America/Los_Angeles"),
        ("seattle-911", "seattle_911_incident_response_2016-03-25.csv", "America/Los_Angeles"),
    ]
    /// Not UTC on purpose: windows must follow the coalition's zone, DST included.
    static let timezone = "America/New_York"

    static var dataDirectory: URL { TestEnvironment.datasets }

    /// Imports the datasets (each area hint mapped to its own area, as the ingestion ground
    /// truth does) into `postgres`, which then holds their events in the outbox.
    static func importDatasets(_ postgres: PostgresClient) async throws {
        let registry = SourceRegistry(postgres: postgres)
        let importer = CSVImporter(store: IncidentStore(postgres: postgres, logger: TestEnvironment.logger))
        let seeds = SeedFiles.bundled
        struct Hints: Decodable { var hints: [String] }
        for (source, file, timezone) in datasets {
            _ = try await registry.add(id: source, name: source, timezone: timezone)
            try await registry.setCategories(source: source, labels: try #require(ShippedCategories.labels(for: source)))
            let judge = try ChildProcess(
                URL(fileURLWithPath: "/usr/bin/python3"),
                arguments: [
                    TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/dataset_counts.py").path, "count",
                    seeds.mappingsDirectory.appendingPathComponent("\(source).json").path,
                    seeds.categoriesDirectory.appendingPathComponent("\(source).json").path,
                    dataDirectory.appendingPathComponent(file).path,
                ])
            try #require(try await judge.waitForExit(timeout: .seconds(120)) == 0, "\(judge.standardError)")
            let hints = try JSONDecoder().decode(Hints.self, from: Data(try #require(judge.lines.last).utf8)).hints
            for hint in hints {
                try await postgres.execute("INSERT INTO area_hints (source_id, hint, area_id) VALUES (\(source), \(hint), \("area-" + hint.lowercased()))")
            }
            let summary = try await importer.run(file: dataDirectory.appendingPathComponent(file), mapping: source)
            #expect(summary.accepted > 0, "\(source)")
        }
    }

    static func count(_ postgres: PostgresClient, _ query: PostgresQuery) async throws -> Int {
        Int(try await postgres.query(query).first!.decode(0, as: Int64.self))
    }

    /// Linear interpolation between closest ranks (what `percentile_cont` defines).
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        let position = fraction * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = Int(position.rounded(.up))
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
    }

    /// Daily response times by area and category, recomputed here from the incidents table
    /// (reported, else occurred → closed; closed before reported left out), against the
    /// aggregator's `response-times` rows.
    static func compareResponseTimes(_ postgres: PostgresClient) async throws {
        var durations: [String: [Double]] = [:]
        for row in try await postgres.query("""
            SELECT to_char(occurred_at AT TIME ZONE \(timezone), 'YYYY-MM-DD') || ' ' || area_id || ' ' || category,
                   extract(epoch FROM closed_at - coalesce((document ->> 'reported_at')::timestamptz, occurred_at))::double precision
            FROM incidents WHERE closed_at IS NOT NULL
            """) {
            let (key, seconds) = try row.decode((String, Double).self)
            if seconds >= 0 { durations[key, default: []].append(seconds) }
        }
        #expect(durations.count > 100, "the datasets have closed incidents")
        var actual: [String: (Int64, Double?, Double?, Double?)] = [:]
        for row in try await postgres.query("""
            SELECT to_char(window_start AT TIME ZONE \(timezone), 'YYYY-MM-DD') || ' ' || (dimensions ->> 'area') || ' ' || (dimensions ->> 'category'),
                   count, ("values" ->> 'p50_seconds')::double precision, ("values" ->> 'p90_seconds')::double precision,
                   ("values" ->> 'mean_seconds')::double precision
            FROM metric_windows
            WHERE metric = 'response-times' AND granularity = 'day' AND dimensions ->> 'area' <> '*' AND dimensions ->> 'category' <> '*' AND count > 0
            """) {
            let (key, n, p50, p90, mean) = try row.decode((String, Int64, Double?, Double?, Double?).self)
            actual[key] = (n, p50, p90, mean)
        }
        #expect(Set(actual.keys) == Set(durations.keys))
        func close(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) <= 1e-6 * max(1, abs(b)) } ?? false }
        for (key, values) in durations {
            let sorted = values.sorted()
            guard let (n, p50, p90, mean) = actual[key] else { continue }
            #expect(n == Int64(sorted.count), "\(key)")
            #expect(close(p50, percentile(sorted, 0.5)), "\(key) p50")
            #expect(close(p90, percentile(sorted, 0.9)), "\(key) p90")
            #expect(close(mean, sorted.reduce(0, +) / Double(sorted.count)), "\(key) mean")
        }
    }

    @Test("daily counts by area and category, and response times, equal an independent computation over the incidents table; replay from offset 0 and over existing state are identical")
    func groundTruth() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("metricstruth") + "."
            let topic = prefix + "incidents.normalized"
            try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
                try await Self.importDatasets(postgres)
                let events = try await Self.count(postgres, "SELECT count(*) FROM outbox WHERE topic = 'incidents.normalized'")
                let incidents = try await Self.count(postgres, "SELECT count(*) FROM incidents")
                #expect(incidents > 10_000)

                // The service's own outbox relay publishes the ingestion events onto the test topic.
                let environment = ["COALITION_TIMEZONE": Self.timezone]
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix, extra: environment)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: events)
                let current = try await Self.count(postgres, """
                    SELECT count(*) FROM incidents i JOIN metric_incident_state s ON s.incident_id = i.id AND s.revision = i.revision
                    """)
                #expect(current == incidents, "every incident counted at its latest revision")

                var expected: [String: Int64] = [:]
                for row in try await postgres.query("""
                    SELECT to_char(occurred_at AT TIME ZONE \(Self.timezone), 'YYYY-MM-DD') || ' ' || area_id || ' ' || category, count(*)::bigint
                    FROM incidents GROUP BY 1
                    """) {
                    let (key, value) = try row.decode((String, Int64).self)
                    expected[key] = value
                }
                let actual = try await MetricsFixtures.dailyCounts(postgres, timezone: Self.timezone)
                #expect(actual.count == expected.count)
                #expect(actual == expected)
                try await Self.compareResponseTimes(postgres)
                let totals = try await Self.count(postgres, "SELECT coalesce(sum(count), 0)::bigint FROM metric_windows WHERE metric = 'incidents' AND granularity = 'month' AND dimension_key = '*/*'")
                #expect(totals == incidents)
                #expect(try await service.stop() == 0)
                let original = try await MetricsFixtures.snapshot(postgres)
                let emitted = try await Self.count(postgres, "SELECT count(*) FROM outbox WHERE topic = 'metrics.incidents'")

                // Replay from offset 0 into an empty database: the same windows.
                try await withTemporaryDatabase { replayURL in
                    let replay = try MetricsFixtures.connect(replayURL)
                    defer { replay.shutdown() }
                    let second = try await MetricsFixtures.start(databaseURL: replayURL, prefix: prefix, extra: environment)
                    try await MetricsFixtures.waitUntilApplied(replay, topic: topic, count: events)
                    #expect(try await MetricsFixtures.snapshot(replay) == original)
                    #expect(try await second.stop() == 0)
                }

                // Forget the stored offsets: everything is read again over the existing state,
                // and nothing changes (no window is re-emitted either).
                try await postgres.execute("DELETE FROM metric_consumer_offsets")
                let third = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix, extra: environment)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: events)
                #expect(try await MetricsFixtures.snapshot(postgres) == original)
                #expect(try await Self.count(postgres, "SELECT count(*) FROM outbox WHERE topic = 'metrics.incidents'") == emitted)
                #expect(try await third.stop() == 0)
            }
        }
    }
}
