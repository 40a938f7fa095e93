extension AreaBoundary.Ring {
    /// Twice the signed planar area (shoelace), in square degrees.
    var doubledSignedArea: Double {
        var sum = 0.0
        for index in 0..<(points.count - 1) {
            let a = points[index]
            let b = points[index + 1]
            sum += a.longitude * b.latitude - b.longitude * a.latitude
        }
        return sum
    }

    /// Even-odd ray casting, with points exactly on an edge reported separately.
    func locate(longitude x: Double, latitude y: Double) -> AreaBoundary.Polygon.Placement {
        var inside = false
        for index in 0..<(points.count - 1) {
            let a = points[index]
            let b = points[index + 1]
            if Self.isOnSegment(x, y, a, b) { return .boundary }
            if (a.latitude > y) != (b.latitude > y) {
                let crossing = a.longitude + (y - a.latitude) / (b.latitude - a.latitude) * (b.longitude - a.longitude)
                if x < crossing { inside.toggle() }
            }
        }
        return inside ? .inside : .outside
    }

    private static func isOnSegment(_ x: Double, _ y: Double, _ a: AreaBoundary.Point, _ b: AreaBoundary.Point) -> Bool {
        guard x >= min(a.longitude, b.longitude), x <= max(a.longitude, b.longitude),
            y >= min(a.latitude, b.latitude), y <= max(a.latitude, b.latitude)
        else { return false }
        let cross = (b.longitude - a.longitude) * (y - a.latitude) - (b.latitude - a.latitude) * (x - a.longitude)
        return cross == 0
    }
}

extension AreaBoundary.Polygon {
    enum Placement: Sendable {
        case inside, boundary, outside
    }

    /// Planar area in square degrees: the exterior less its holes.
    var area: Double {
        abs(exterior.doubledSignedArea) / 2 - holes.reduce(0) { $0 + abs($1.doubledSignedArea) / 2 }
    }

    /// A polygon is a closed set: its outline and the outlines of its holes belong to it,
    /// the inside of a hole does not.
    func contains(longitude: Double, latitude: Double) -> Bool {
        switch exterior.locate(longitude: longitude, latitude: latitude) {
        case .outside: return false
        case .boundary: return true
        case .inside:
            for hole in holes where hole.locate(longitude: longitude, latitude: latitude) == .inside { return false }
            return true
        }
    }
}

extension AreaBoundary {
    /// Planar area in square degrees, used only to rank overlapping areas.
    var area: Double { polygons.reduce(0) { $0 + $1.area } }

    func contains(latitude: Double, longitude: Double) -> Bool {
        polygons.contains { $0.contains(longitude: longitude, latitude: latitude) }
    }
}
