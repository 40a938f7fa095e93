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
}
