import Foundation
import Testing

@testable import IncidentIngestion

@Suite("GeoJSON areas: parsing and validation")
struct AreaGeoJSONTests {
    static func collection(_ features: String...) -> Data {
        Data(#"{"type": "FeatureCollection", "features": [\#(features.joined(separator: ","))]}"#.utf8)
    }

    static func feature(_ properties: String, _ geometry: String) -> String {
        #"{"type": "Feature", "properties": \#(properties), "geometry": \#(geometry)}"#
    }

    static let square = #"{"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]], [[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#
    static let pair = #"{"type": "MultiPolygon", "coordinates": [[[[20,0],[22,0],[22,2],[20,2],[20,0]]], [[[30,0],[32,0],[32,2],[30,2],[30,0]]]]}"#

    @Test("polygons with holes, multipolygons, numeric ids, configurable property names")
    func parses() throws {
        let data = Self.collection(
            Self.feature(#"{"code": "A-1", "label": "Square"}"#, Self.square),
            Self.feature(#"{"code": 7, "label": "Pair", "other": true}"#, Self.pair))
        let areas = try GeoJSON.areas(from: data, idProperty: "code", nameProperty: "label")
        #expect(areas.map(\.id) == ["A-1", "7"])
        #expect(areas.map(\.name) == ["Square", "Pair"])
        #expect(areas[0].polygons.count == 1)
        #expect(areas[0].polygons[0].holes.count == 1)
        #expect(areas[0].polygons[0].exterior.points[1] == AreaBoundary.Point(longitude: 10, latitude: 0))
        #expect(areas[1].polygons.count == 2)
        #expect(areas[0].area == 100 - 4)
        #expect(areas[1].area == 8)
        // No name property: the name is simply absent.
        #expect(try GeoJSON.areas(from: data, idProperty: "code", nameProperty: nil).map(\.name) == [nil, nil])
        // A single Feature is accepted too; altitude is ignored.
        let single = Data(Self.feature(#"{"id": "s"}"#, #"{"type": "Polygon", "coordinates": [[[0,0,5],[1,0,5],[1,1,5],[0,0,5]]]}"#).utf8)
        #expect(try GeoJSON.areas(from: single).map(\.id) == ["s"])
    }

    @Test(
        "invalid areas are refused with a code, the feature and a path",
        arguments: [
            (feature(#"{"id": "a"}"#, #"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1]]]}"#), "unclosed_ring", "features[0].geometry.coordinates[0]"),
            (feature(#"{"id": "a"}"#, #"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[0,0]]]}"#), "too_few_positions", "features[0].geometry.coordinates[0]"),
            (feature(#"{"id": "a"}"#, #"{"type": "Polygon", "coordinates": []}"#), "too_few_positions", "features[0].geometry.coordinates"),
            (feature(#"{"id": "a"}"#, #"{"type": "Point", "coordinates": [0,0]}"#), "unsupported_geometry", "features[0].geometry.type"),
            (feature(#"{"id": "a"}"#, #"{"type": "GeometryCollection", "geometries": []}"#), "unsupported_geometry", "features[0].geometry.type"),
            (feature(#"{"name": "x"}"#, square), "missing_id", "features[0].properties.id"),
            (feature(#"{"id": ""}"#, square), "missing_id", "features[0].properties.id"),
            (feature(#"{"id": true}"#, square), "missing_id", "features[0].properties.id"),
            (feature(#"{"id": "a"}"#, "null"), "missing_geometry", "features[0].geometry"),
            (feature(#"{"id": "a"}"#, #"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,95],[0,0]]]}"#), "invalid_position", "features[0].geometry.coordinates[0][2]"),
            (feature(#"{"id": "a"}"#, #"{"type": "Polygon", "coordinates": [[[0,0],[1,"x"],[1,1],[0,0]]]}"#), "invalid_position", "features[0].geometry.coordinates[0][1]"),
            (feature(#"{"id": "a"}"#, #"{"type": "MultiPolygon", "coordinates": [[[[0,0],[1,0],[1,1],[0,0]]], [[[5,5],[6,5],[6,6]]]]}"#), "too_few_positions", "features[0].geometry.coordinates[1][0]"),
        ] as [(String, String, String)])
    func refused(feature: String, code: String, path: String) {
        do {
            _ = try GeoJSON.areas(from: Self.collection(feature))
            Issue.record("expected \(code)")
        } catch {
            #expect(error.code.description == code, "\(error)")
            #expect(error.path == path, "\(error)")
            #expect(error.feature == 0)
        }
    }

    @Test("documents that are not feature collections, and duplicate ids")
    func refusedDocuments() {
        #expect(throws: GeoJSONError.self) { try GeoJSON.areas(from: Data("not json".utf8)) }
        #expect(throws: GeoJSONError.self) { try GeoJSON.areas(from: Data(Self.square.utf8)) }
        #expect(throws: GeoJSONError.self) { try GeoJSON.areas(from: Data(#"{"type": "FeatureCollection"}"#.utf8)) }
        do {
            _ = try GeoJSON.areas(from: Self.collection(Self.feature(#"{"id": "a"}"#, Self.square), Self.feature(#"{"id": "a"}"#, Self.pair)))
            Issue.record("expected duplicate_id")
        } catch {
            #expect(error.code == .duplicateID)
            #expect(error.feature == 1)
        }
    }
}
