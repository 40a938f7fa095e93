import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

@Suite("Area assignment in the store")
struct AreaAssignmentTests {
    /// Two squares; "north" has a hole in its middle.
    static let geojson = """
        {"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"id":"north","name":"North"},"geometry":{"type":"Polygon","coordinates":[
            [[0,10],[10,10],[10,20],[0,20],[0,10]], [[4,14],[6,14],[6,16],[4,16],[4,14]]]}},
          {"type":"Feature","properties":{"id":"south","name":"South"},"geometry":{"type":"MultiPolygon","coordinates":[
            [[[0,0],[10,0],[10,10],[0,10],[0,0]]]]}}
        ]}
        """

    static func incident(_ id: String, lat: Double? = nil, lon: Double? = nil, hint: String? = nil) -> RawIncident {
        RawIncident(
            source: "patrol", externalId: id, category: "theft", occurredAt: Date(timeIntervalSince1970: 1_741_900_000),
            location: lat.map { IncidentLocation(lat: $0, lon: lon) }, areaHint: hint)
    }

    @Test("a point goes to the polygon containing it (holes honoured), else the source's hint mapping, else unassigned")
    func assignment() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            _ = try await SourceRegistry(postgres: postgres).add(id: "patrol", name: "Patrol", timezone: "UTC")
            try await postgres.execute("INSERT INTO area_hints (source_id, hint, area_id) VALUES ('patrol', 'Sector 9', 'south')")
            #expect(try await AreaCatalog(postgres: postgres).importGeoJSON(Data(Self.geojson.utf8)) == 2)

            let store = IncidentStore(postgres: postgres, logger: TestEnvironment.logger)
            _ = try await store.ingest([
                Self.incident("in-north", lat: 12, lon: 2),
                Self.incident("in-hole", lat: 15, lon: 5),
                Self.incident("in-south", lat: 5, lon: 5),
                Self.incident("outside-with-hint", lat: 50, lon: 50, hint: "Sector 9"),
                Self.incident("hint-only", hint: "Sector 9"),
                Self.incident("nowhere", hint: "Sector 1"),
            ])
            let rows = try await postgres.query("SELECT external_id, area_id FROM incidents ORDER BY external_id")
            let assigned = Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
            #expect(assigned == [
                "in-north": "north", "in-hole": "unassigned", "in-south": "south",
                "outside-with-hint": "south", "hint-only": "south", "nowhere": "unassigned",
            ])
        }
    }

    @Test("an operator's hint file replaces the source's hints; a file with an unknown area, a repeated or blank hint changes nothing")
    func hintFile() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            _ = try await SourceRegistry(postgres: postgres).add(id: "patrol", name: "Patrol", timezone: "UTC")
            try await AreaCatalog(postgres: postgres).importGeoJSON(Data(Self.geojson.utf8))
            let hints = AreaHints(postgres: postgres)
            try await hints.replace(source: "patrol", csv: Data("hint,area_id\nSector 7,south\n".utf8))

            #expect(try await hints.replace(source: "patrol", csv: Data("hint,area_id\nSector 9,south\n\"Sector 1, east\",north\n".utf8)) == 2)
            let stored = [AreaHints.Hint(hint: "Sector 1, east", areaID: "north"), AreaHints.Hint(hint: "Sector 9", areaID: "south")]
            #expect(try await hints.list(source: "patrol") == stored)

            let refusals: [(String, AreaHintError.Code, String)] = [
                ("hint,area_id\nSector 9,west\nSector 2,east\n", .unknownArea, "east, west"),
                ("hint,area_id\nSector 9,north\nSector 9,south\n", .invalidFile, "line 3: the hint \"Sector 9\" is already mapped on line 2"),
                ("hint,area_id\n ,north\n", .invalidFile, "line 2: hint and area_id must not be blank"),
                ("district,area\nSector 9,north\n", .invalidFile, "the header must name the columns hint and area_id"),
            ]
            for (file, code, message) in refusals {
                do {
                    try await hints.replace(source: "patrol", csv: Data(file.utf8))
                    Issue.record("accepted \(file)")
                } catch let error as AreaHintError {
                    #expect(error.code == code)
                    #expect(error.message.hasSuffix(message), "\(error.message)")
                }
            }
            await #expect(throws: AreaHintError.self) { try await hints.replace(source: "nobody", csv: Data("hint,area_id\nA,north\n".utf8)) }
            #expect(try await hints.list(source: "patrol") == stored)

            let store = IncidentStore(postgres: postgres, logger: TestEnvironment.logger)
            _ = try await store.ingest([Self.incident("by-hint", hint: "Sector 1, east"), Self.incident("replaced-hint", hint: "Sector 7")])
            let rows = try await postgres.query("SELECT external_id, area_id FROM incidents ORDER BY external_id")
            let assigned = Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
            #expect(assigned == ["by-hint": "north", "replaced-hint": "unassigned"])
        }
    }
}
