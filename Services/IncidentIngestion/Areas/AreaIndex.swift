import Synchronization

/// Which imported area contains a point, answered through an R-tree built once.
///
/// Every polygon of every area (the parts of a MultiPolygon separately) is a leaf entry
/// keyed by its bounding box; the tree is packed bottom-up with Sort-Tile-Recursive (STR),
/// so a query descends only into boxes holding the point and runs the exact test on a
/// handful of polygons, not on all of them.
///
/// The exact test is even-odd ray casting that honours holes. A polygon is a closed set:
/// a point on its outline, or on the outline of one of its holes, is inside it; a point
/// strictly inside a hole is not.
///
/// When areas overlap (or share an edge and the point lies on it) the **smallest** area wins
/// (planar area in square degrees, holes subtracted), ties going to the smaller id in string
/// order: the most specific area is the useful answer ("a school zone inside a precinct"),
/// and the rule depends on nothing but the areas themselves, not on import order.
final class AreaIndex: Sendable {
    private struct Part: Sendable {
        var rank: Int
        var polygon: AreaBoundary.Polygon
        var box: AreaBoundary.BoundingBox
    }

    private struct Node: Sendable {
        var box: AreaBoundary.BoundingBox
        /// Indices into the level below, or into `parts` for a leaf.
        var children: Range<Int>
    }

    static let nodeCapacity = 16

    /// The areas in priority order: smallest first, then by id.
    let areas: [AreaBoundary]
    private let parts: [Part]
    /// `levels[0]` are the leaves; the last level is the root alone.
    private let levels: [[Node]]
    private let lastQueryPolygonTests = Atomic<Int>(0)

    init(_ areas: [AreaBoundary]) {
        let ranked = areas.map { ($0, $0.area) }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0.id < $1.0.id }
        self.areas = ranked.map(\.0)
        var parts: [Part] = []
        for (rank, area) in self.areas.enumerated() {
            for polygon in area.polygons {
                parts.append(Part(rank: rank, polygon: polygon, box: AreaBoundary.BoundingBox(polygon.exterior.points)))
            }
        }
        guard !parts.isEmpty else {
            self.parts = []
            levels = []
            return
        }
        let leafGroups = Self.sortTileRecursive(parts.map(\.box))
        let orderedParts = leafGroups.order.map { parts[$0] }
        var levels = [leafGroups.groups.map { Node(box: Self.union(orderedParts[$0].map(\.box)), children: $0) }]
        while levels[levels.count - 1].count > 1 {
            let nodes = levels[levels.count - 1]
            let packing = Self.sortTileRecursive(nodes.map(\.box))
            let orderedNodes = packing.order.map { nodes[$0] }
            levels[levels.count - 1] = orderedNodes
            levels.append(packing.groups.map { Node(box: Self.union(orderedNodes[$0].map(\.box)), children: $0) })
        }
        self.parts = orderedParts
        self.levels = levels
    }

    /// The id of the area containing the point, or `nil` when none does.
    func areaID(containingLatitude latitude: Double, longitude: Double) -> String? {
        locate(latitude: latitude, longitude: longitude).id
    }

    /// Every area containing the point, winner first.
    func areaIDs(containingLatitude latitude: Double, longitude: Double) -> [String] {
        let ranks = candidates(latitude: latitude, longitude: longitude)
            .filter { parts[$0].polygon.contains(longitude: longitude, latitude: latitude) }
            .map { parts[$0].rank }
        return Set(ranks).sorted().map { areas[$0].id }
    }

    /// Exact polygon tests the last `areaID` query ran (bounding-box checks not counted).
    var polygonTestsInLastQuery: Int { lastQueryPolygonTests.load(ordering: .relaxed) }

    /// The answer and how many exact polygon tests it took.
    func locate(latitude: Double, longitude: Double) -> (id: String?, polygonTests: Int) {
        // Candidates in priority order: the first that really contains the point wins.
        let ordered = candidates(latitude: latitude, longitude: longitude).sorted { parts[$0].rank < parts[$1].rank }
        var tests = 0
        var found: String?
        for index in ordered {
            tests += 1
            if parts[index].polygon.contains(longitude: longitude, latitude: latitude) {
                found = areas[parts[index].rank].id
                break
            }
        }
        lastQueryPolygonTests.store(tests, ordering: .relaxed)
        return (found, tests)
    }

    /// Parts whose bounding box holds the point.
    private func candidates(latitude: Double, longitude: Double) -> [Int] {
        guard let root = levels.last?.first, root.box.contains(longitude: longitude, latitude: latitude) else { return [] }
        var result: [Int] = []
        var stack = [(level: levels.count - 1, node: 0)]
        while let (level, index) = stack.popLast() {
            let node = levels[level][index]
            if level == 0 {
                result.append(contentsOf: node.children.filter { parts[$0].box.contains(longitude: longitude, latitude: latitude) })
            } else {
                for child in node.children where levels[level - 1][child].box.contains(longitude: longitude, latitude: latitude) {
                    stack.append((level - 1, child))
                }
            }
        }
        return result
    }

    // MARK: - Packing

    /// STR: sort by x into vertical slices, sort each slice by y, cut into runs of `nodeCapacity`.
    /// Returns the new order of the boxes and the index ranges (into that order) of each group.
    private static func sortTileRecursive(_ boxes: [AreaBoundary.BoundingBox]) -> (order: [Int], groups: [Range<Int>]) {
        let groupCount = (boxes.count + nodeCapacity - 1) / nodeCapacity
        let sliceCount = Int(Double(groupCount).squareRoot().rounded(.up))
        let sliceSize = sliceCount * nodeCapacity
        let byX = boxes.indices.sorted { boxes[$0].centerLongitude < boxes[$1].centerLongitude }
        var order: [Int] = []
        var groups: [Range<Int>] = []
        for sliceStart in stride(from: 0, to: byX.count, by: sliceSize) {
            let slice = byX[sliceStart..<min(sliceStart + sliceSize, byX.count)]
                .sorted { boxes[$0].centerLatitude < boxes[$1].centerLatitude }
            for groupStart in stride(from: 0, to: slice.count, by: nodeCapacity) {
                let start = order.count
                order.append(contentsOf: slice[groupStart..<min(groupStart + nodeCapacity, slice.count)])
                groups.append(start..<order.count)
            }
        }
        return (order, groups)
    }

    private static func union(_ boxes: some Sequence<AreaBoundary.BoundingBox>) -> AreaBoundary.BoundingBox {
        boxes.reduce(AreaBoundary.BoundingBox([])) { $0.union($1) }
    }
}
