/// One area an operator imported: an id, a name and one or more polygons (a GeoJSON
/// Polygon or MultiPolygon). Coordinates are WGS84 degrees, treated as a plane; areas
/// that cross the antimeridian are not supported.
struct AreaBoundary: Sendable, Hashable {
    struct Point: Sendable, Hashable {
        var longitude: Double
        var latitude: Double
    }

    /// A closed ring: the first point is repeated as the last.
    struct Ring: Sendable, Hashable {
        var points: [Point]
    }

    /// An exterior ring and the holes cut out of it.
    struct Polygon: Sendable, Hashable {
        var exterior: Ring
        var holes: [Ring] = []
    }

    var id: String
    var name: String?
    var polygons: [Polygon]
}

extension AreaBoundary {
    /// An axis-aligned box in degrees.
    struct BoundingBox: Sendable, Hashable {
        var minLongitude: Double
        var minLatitude: Double
        var maxLongitude: Double
        var maxLatitude: Double

        init(minLongitude: Double, minLatitude: Double, maxLongitude: Double, maxLatitude: Double) {
            self.minLongitude = minLongitude
            self.minLatitude = minLatitude
            self.maxLongitude = maxLongitude
            self.maxLatitude = maxLatitude
        }

        init(_ points: [Point]) {
            self.init(minLongitude: .infinity, minLatitude: .infinity, maxLongitude: -.infinity, maxLatitude: -.infinity)
            for point in points {
                minLongitude = min(minLongitude, point.longitude)
                maxLongitude = max(maxLongitude, point.longitude)
                minLatitude = min(minLatitude, point.latitude)
                maxLatitude = max(maxLatitude, point.latitude)
            }
        }

        var centerLongitude: Double { (minLongitude + maxLongitude) / 2 }
        var centerLatitude: Double { (minLatitude + maxLatitude) / 2 }

        /// Closed: a point on the edge is inside.
        func contains(longitude: Double, latitude: Double) -> Bool {
            longitude >= minLongitude && longitude <= maxLongitude && latitude >= minLatitude && latitude <= maxLatitude
        }

        func union(_ other: BoundingBox) -> BoundingBox {
            BoundingBox(
                minLongitude: min(minLongitude, other.minLongitude), minLatitude: min(minLatitude, other.minLatitude),
                maxLongitude: max(maxLongitude, other.maxLongitude), maxLatitude: max(maxLatitude, other.maxLatitude))
        }
    }
}
