import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

/// The three real datasets through the CSV importer, checked against an independent
/// computation over the raw files (Tests/Judges/dataset_counts.py, Python's csv module).
@Suite("Real datasets through the CSV importer")
struct DatasetGroundTruthTests {
    static let datasets = [
        ("nyc-311", "nyc_311_animal_complaints_2025-03.csv", "America/New_York"),
        ("sfpd-incidents", "sf_police_incident_reports_2018-12.csv", "America/Los_Angeles"),
        ("seattle-911", "seattle_911_incident_response_2016-03-25.csv", "America/Los_Angeles"),
    ]

    struct Expected: Decodable {
        var rows: Int
        var rejected: Int
        var categories: [String: Int]
        var areas: [String: Int]
        var hints: [String]
    }

    static var dataDirectory: URL { TestEnvironment.datasets }

    static func judge(_ arguments: [String]) async throws -> ChildProcess {
        let judge = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/python3"),
            arguments: [TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/dataset_counts.py").path] + arguments)
        try #require(try await judge.waitForExit(timeout: .seconds(120)) == 0, "\(judge.standardError)")
        return judge
    }

    static func counts(_ postgres: PostgresClient, _ sql: String, source: String) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await postgres.query(PostgresQuery(unsafeSQL: sql, parameters: [source])) {
            let (key, count) = try row.decode((String, Int).self)
            result[key] = count
        }
        return result
    }

    @Test("per-category and per-area counts equal the independent computation; a second import changes nothing; 100 corrections make exactly 100 revisions and events")
    func groundTruth() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let registry = SourceRegistry(postgres: postgres)
            let importer = CSVImporter(store: IncidentStore(postgres: postgres, logger: TestEnvironment.logger))
            let seeds = SeedFiles.bundled

            for (source, file, timezone) in Self.datasets {
                _ = try await registry.add(id: source, name: source, timezone: timezone)
                try await registry.setCategories(source: source, labels: try #require(ShippedCategories.labels(for: source)))
                let judge = try await Self.judge([
                    "count", seeds.mappingsDirectory.appendingPathComponent("\(source).json").path,
                    seeds.categoriesDirectory.appendingPathComponent("\(source).json").path,
                    Self.dataDirectory.appendingPathComponent(file).path,
                ])
                let expected = try JSONDecoder().decode(Expected.self, from: Data(try #require(judge.lines.last).utf8))
                // The operator's area mapping for this test: every hint to its own area.
                for hint in expected.hints {
                    try await postgres.execute("INSERT INTO area_hints (source_id, hint, area_id) VALUES (\(source), \(hint), \("area-" + hint.lowercased()))")
                }

                let summary = try await importer.run(file: Self.dataDirectory.appendingPathComponent(file), mapping: source)
                #expect(summary.read == expected.rows, "\(source)")
                #expect(summary.rejected == expected.rejected, "\(source): \(summary.rejectedByReason)")
                #expect(summary.accepted == expected.rows - expected.rejected, "\(source)")
                let categories = try await Self.counts(postgres, "SELECT category, count(*) FROM incidents WHERE source_id = $1 GROUP BY 1", source: source)
                #expect(categories == expected.categories, "\(source)")
                let areas = try await Self.counts(postgres, "SELECT area_id, count(*) FROM incidents WHERE source_id = $1 GROUP BY 1", source: source)
                #expect(areas == expected.areas, "\(source)")
            }

            func total(_ sql: String) async throws -> Int {
                try await postgres.query(PostgresQuery(unsafeSQL: sql)).first!.decode(0, as: Int.self)
            }
            let revisions = try await total("SELECT count(*) FROM incident_revisions")
            let events = try await total("SELECT count(*) FROM outbox WHERE topic = 'incidents.normalized'")
            #expect(revisions == events)

            // Sending every dataset again: no new revision, no new event.
            for (source, file, _) in Self.datasets {
                let again = try await importer.run(file: Self.dataDirectory.appendingPathComponent(file), mapping: source)
                #expect(again.accepted == 0 && again.updated == 0, "\(source)")
            }
            #expect(try await total("SELECT count(*) FROM incident_revisions") == revisions)
            #expect(try await total("SELECT count(*) FROM outbox WHERE topic = 'incidents.normalized'") == events)

            // Correcting 100 records: exactly 100 new revisions and events.
            let corrected = FileManager.default.temporaryDirectory.appendingPathComponent("corrected-\(UUID().uuidString).csv")
            defer { try? FileManager.default.removeItem(at: corrected) }
            _ = try await Self.judge(["mutate", Self.dataDirectory.appendingPathComponent(Self.datasets[0].1).path, corrected.path, "Descriptor", "100"])
            let correction = try await importer.run(file: corrected, mapping: "nyc-311")
            #expect(correction.updated == 100)
            #expect(correction.unchanged == 4969 - 100)
            #expect(try await total("SELECT count(*) FROM incident_revisions") == revisions + 100)
            #expect(try await total("SELECT count(*) FROM outbox WHERE topic = 'incidents.normalized'") == events + 100)
            #expect(try await total("SELECT count(*) FROM incidents WHERE revision = 2") == 100)
        }
    }
}
