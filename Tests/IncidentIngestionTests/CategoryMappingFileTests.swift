import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

@Suite("An operator's category mapping file")
struct CategoryMappingFileTests {
    static func mapping(source: String = "patrol", version: Int = 1, labels: String) -> Data {
        Data(#"{"source": "\#(source)", "taxonomy_version": \#(version), "labels": {\#(labels)}}"#.utf8)
    }

    static func incident(_ id: String, label: String) -> RawIncident {
        RawIncident(
            source: "patrol", externalId: id, category: label, occurredAt: Date(timeIntervalSince1970: 1_741_900_000),
            location: IncidentLocation(lat: 40.7, lon: -73.9))
    }

    @Test("replaces the source's table (applied from the next batch); a file for another source, version or with an unknown code changes nothing")
    func replaceAndRefuse() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let registry = SourceRegistry(postgres: postgres)
            _ = try await registry.add(id: "patrol", name: "Patrol", timezone: "UTC")
            try await registry.setCategories(source: "patrol", seedFile: Self.mapping(labels: #""Stolen bike": "theft""#))

            #expect(try await registry.setCategories(
                source: "patrol", seedFile: Self.mapping(labels: #""Loud party": "noise", "Break-in": "burglary""#)) == 2)
            let table = try await registry.categories(source: "patrol").map { "\($0.label)=\($0.category)" }
            #expect(table == ["Break-in=burglary", "Loud party=noise"])

            let refused: [(Data, String)] = [
                (Self.mapping(source: "other-source", labels: #""Loud party": "theft""#), "the file maps labels of other-source, not patrol"),
                (Self.mapping(version: 2, labels: #""Loud party": "theft""#), "taxonomy_version 2"),
                (Self.mapping(labels: #""Loud party": "loudness""#), "not a category seed"),
            ]
            for (file, message) in refused {
                do {
                    try await registry.setCategories(source: "patrol", seedFile: file)
                    Issue.record("accepted \(String(decoding: file, as: UTF8.self))")
                } catch {
                    #expect("\(error)".contains(message), "\(error)")
                }
            }
            await #expect(throws: SourceError.self) {
                try await registry.setCategories(source: "nobody", seedFile: Self.mapping(source: "nobody", labels: #""A": "theft""#))
            }
            #expect(try await registry.categories(source: "patrol").map { "\($0.label)=\($0.category)" } == table)

            let store = IncidentStore(postgres: postgres, logger: TestEnvironment.logger)
            _ = try await store.ingest([
                Self.incident("a", label: "Loud party"), Self.incident("b", label: "Stolen bike"), Self.incident("c", label: "robbery"),
            ])
            let rows = try await postgres.query("SELECT external_id, category FROM incidents ORDER BY external_id")
            let categories = Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
            // A label the file no longer maps becomes `other` (and is listed as unmapped); a canonical code maps to itself.
            #expect(categories == ["a": "noise", "b": "other", "c": "robbery"])
            #expect(try await registry.unmapped(source: "patrol").map(\.label) == ["Stolen bike"])
        }
    }
}
