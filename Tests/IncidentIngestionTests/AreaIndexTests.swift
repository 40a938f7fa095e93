import Foundation
import Testing
import TestSupport

@testable import IncidentIngestion

@Suite("Area index: exact containment through an R-tree")
struct AreaIndexTests {
    static func ring(_ points: [(Double, Double)]) -> AreaBoundary.Ring {
        AreaBoundary.Ring(points: (points + [points[0]]).map { AreaBoundary.Point(longitude: $0.0, latitude: $0.1) })
    }

    /// An axis-aligned square, lower-left corner (x, y), side `size`, counter-clockwise.
    static func square(_ x: Double, _ y: Double, _ size: Double) -> AreaBoundary.Ring {
        ring([(x, y), (x + size, y), (x + size, y + size), (x, y + size)])
    }

    static func area(_ id: String, _ polygons: AreaBoundary.Polygon...) -> AreaBoundary {
        AreaBoundary(id: id, name: nil, polygons: polygons)
    }

    @Test("a square with a hole: inside, in the hole, on both outlines, outside")
    func squareWithHole() {
        let index = AreaIndex([Self.area("donut", .init(exterior: Self.square(0, 0, 10), holes: [Self.square(4, 4, 2)]))])
        #expect(index.areaID(containingLatitude: 1, longitude: 1) == "donut")
        #expect(index.areaID(containingLatitude: 5, longitude: 5) == nil, "inside the hole")
        #expect(index.areaID(containingLatitude: 5.5, longitude: 4.5) == nil, "inside the hole")
        #expect(index.areaID(containingLatitude: 5, longitude: 4) == "donut", "on the hole's edge")
        #expect(index.areaID(containingLatitude: 4, longitude: 4) == "donut", "on the hole's corner")
        #expect(index.areaID(containingLatitude: 0, longitude: 5) == "donut", "on the outer edge")
        #expect(index.areaID(containingLatitude: 10, longitude: 10) == "donut", "on the outer corner")
        #expect(index.areaID(containingLatitude: 10.0001, longitude: 5) == nil)
        #expect(index.areaID(containingLatitude: 5, longitude: -0.0001) == nil)
        #expect(index.areaID(containingLatitude: -50, longitude: 100) == nil, "outside everything")
        #expect(index.areaID(containingLatitude: .nan, longitude: 1) == nil)
    }

    @Test("a clockwise ring and a concave outline")
    func orientationAndConcavity() {
        let clockwise = Self.ring([(0, 0), (0, 4), (4, 4), (4, 0)])
        // A "U": the notch between x 1…3 above y 1 is outside.
        let u = Self.ring([(10, 0), (14, 0), (14, 4), (13, 4), (13, 1), (11, 1), (11, 4), (10, 4)])
        let index = AreaIndex([Self.area("cw", .init(exterior: clockwise)), Self.area("u", .init(exterior: u))])
        #expect(index.areaID(containingLatitude: 2, longitude: 2) == "cw")
        #expect(index.areaID(containingLatitude: 3, longitude: 10.5) == "u")
        #expect(index.areaID(containingLatitude: 3, longitude: 12) == nil, "in the notch")
        #expect(index.areaID(containingLatitude: 0.5, longitude: 12) == "u")
    }

    @Test("a multipolygon answers for each part and not between them; an island in a hole belongs to its own area")
    func multipolygonAndIsland() {
        let index = AreaIndex([
            Self.area("islands", .init(exterior: Self.square(0, 0, 1)), .init(exterior: Self.square(5, 5, 1))),
            Self.area("lake", .init(exterior: Self.square(10, 0, 10), holes: [Self.square(13, 3, 4)])),
            Self.area("island-in-lake", .init(exterior: Self.square(14, 4, 2))),
        ])
        #expect(index.areaID(containingLatitude: 0.5, longitude: 0.5) == "islands")
        #expect(index.areaID(containingLatitude: 5.5, longitude: 5.5) == "islands")
        #expect(index.areaID(containingLatitude: 3, longitude: 3) == nil)
        #expect(index.areaID(containingLatitude: 1, longitude: 11) == "lake")
        #expect(index.areaID(containingLatitude: 3.5, longitude: 13.5) == nil, "water between the shore and the island")
        #expect(index.areaID(containingLatitude: 5, longitude: 15) == "island-in-lake")
    }

    @Test("overlaps: the smallest area wins whatever the import order; equal areas go to the smaller id")
    func overlaps() {
        let city = Self.area("city", .init(exterior: Self.square(0, 0, 100)))
        let district = Self.area("district", .init(exterior: Self.square(10, 10, 30)))
        let block = Self.area("block", .init(exterior: Self.square(20, 20, 2)))
        for order in [[city, district, block], [block, city, district], [district, block, city]] {
            let index = AreaIndex(order)
            #expect(index.areaID(containingLatitude: 21, longitude: 21) == "block")
            #expect(index.areaID(containingLatitude: 15, longitude: 15) == "district")
            #expect(index.areaID(containingLatitude: 5, longitude: 5) == "city")
            #expect(index.areaIDs(containingLatitude: 21, longitude: 21) == ["block", "district", "city"])
        }
        // Neighbours sharing an edge: a point on it belongs to both; the tie goes to the smaller id.
        let index = AreaIndex([Self.area("west", .init(exterior: Self.square(0, 0, 1))), Self.area("east", .init(exterior: Self.square(1, 0, 1)))])
        #expect(index.areaID(containingLatitude: 0.5, longitude: 1) == "east")
        #expect(index.areaIDs(containingLatitude: 0.5, longitude: 1) == ["east", "west"])
    }

    @Test("an empty index answers nil")
    func empty() {
        let index = AreaIndex([])
        #expect(index.areaID(containingLatitude: 0, longitude: 0) == nil)
        #expect(index.polygonTestsInLastQuery == 0)
    }

    @Test("2,000 grid polygons: every answer matches a full scan, and each query tests only a handful of polygons")
    func gridIsSubLinear() {
        // 50 × 40 cells of 0.01° over New York, each with a small hole in the middle.
        let columns = 50
        let rows = 40
        let size = 0.01
        var areas: [AreaBoundary] = []
        for row in 0..<rows {
            for column in 0..<columns {
                let x = -74.2 + Double(column) * size
                let y = 40.5 + Double(row) * size
                let hole = Self.square(x + size * 0.4, y + size * 0.4, size * 0.2)
                areas.append(Self.area("r\(row)c\(column)", .init(exterior: Self.square(x, y, size), holes: [hole])))
            }
        }
        #expect(areas.count == 2_000)
        let index = AreaIndex(areas)
        var generator = SeededRandom(seed: 2000)
        var maxTests = 0
        var totalTests = 0
        let queries = 2_000
        for _ in 0..<queries {
            let latitude = Double.random(in: 40.45...40.95, using: &generator)
            let longitude = Double.random(in: -74.25...(-73.65), using: &generator)
            let answer = index.areaID(containingLatitude: latitude, longitude: longitude)
            let tests = index.polygonTestsInLastQuery
            maxTests = max(maxTests, tests)
            totalTests += tests
            let expected = areas.filter { $0.contains(latitude: latitude, longitude: longitude) }.map(\.id).min()
            #expect(answer == expected, "(\(latitude), \(longitude))")
        }
        // A point lies in at most four cells' boxes (at a shared corner); a full scan would test 2,000.
        #expect(maxTests <= 4)
        #expect(Double(totalTests) / Double(queries) <= 1.0)
        // Cell centres are in the hole: nil after one test; a point just inside a cell's corner hits that cell.
        #expect(index.areaID(containingLatitude: 40.5 + 0.005, longitude: -74.2 + 0.005) == nil)
        #expect(index.locate(latitude: 40.5 + 0.001, longitude: -74.2 + 0.001) == ("r0c0", 1))
    }
}
