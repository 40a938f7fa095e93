import Foundation
import NIOConcurrencyHelpers
import Postgres

/// The operator's areas in PostgreSQL, and the in-memory spatial index built from them.
public struct AreaCatalog: Sendable {
    private let postgres: PostgresClient
    private let cache: Cache

    public init(postgres: PostgresClient) {
        self.postgres = postgres
        self.cache = Cache()
    }

    /// Imports (or replaces, by id) every feature of a GeoJSON FeatureCollection. The whole file
    /// is validated first: one bad feature imports nothing. Returns the number of areas.
    @discardableResult
    public func importGeoJSON(_ data: Data, idProperty: String = "id", nameProperty: String = "name") async throws -> Int {
        let boundaries = try GeoJSON.areas(from: data, idProperty: idProperty, nameProperty: nameProperty)
        guard let collection = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let features = collection["features"] as? [[String: Any]] else { return 0 }
        var geometries: [String: String] = [:]
        for feature in features {
            guard let properties = feature["properties"] as? [String: Any], let geometry = feature["geometry"] else { continue }
            let id = (properties[idProperty] as? String) ?? (properties[idProperty] as? NSNumber)?.stringValue
            if let id { geometries[id] = String(decoding: try JSONSerialization.data(withJSONObject: geometry), as: UTF8.self) }
        }
        try await postgres.withTransaction { connection in
            for boundary in boundaries {
                guard let geometry = geometries[boundary.id] else { continue }
                try await connection.execute("""
                    INSERT INTO areas (id, name, geometry) VALUES (\(boundary.id), \(boundary.name), \(geometry)::jsonb)
                    ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, geometry = EXCLUDED.geometry, imported_at = now()
                    """)
            }
        }
        return boundaries.count
    }

    public func list() async throws -> [(id: String, name: String?)] {
        try await postgres.query("SELECT id, name FROM areas ORDER BY id").map { try $0.decode((String, String?).self) }
    }

    /// The current index, rebuilt only when the areas table changed since the last call.
    func index(using connection: PostgresConnection) async throws -> AreaIndex {
        let version = try await connection.query("SELECT count(*)::text || '/' || coalesce(max(imported_at)::text, '') FROM areas")
            .first!.decode(0, as: String.self)
        if let cached = cache.current(version: version) { return cached }
        let collection = try await connection.query("""
            SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
                'type', 'Feature', 'properties', json_build_object('id', id, 'name', name), 'geometry', geometry)), '[]'::json))::text
            FROM areas
            """).first!.decode(0, as: String.self)
        let index = AreaIndex(try GeoJSON.areas(from: Data(collection.utf8)))
        cache.store(index, version: version)
        return index
    }

    final class Cache: Sendable {
        private let state = NIOLockedValueBox<(version: String, index: AreaIndex)?>(nil)
        func current(version: String) -> AreaIndex? {
            state.withLockedValue { $0?.version == version ? $0?.index : nil }
        }
        func store(_ index: AreaIndex, version: String) { state.withLockedValue { $0 = (version, index) } }
    }
}
