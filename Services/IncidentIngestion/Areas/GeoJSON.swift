import Foundation

/// Reads operator-supplied area polygons (RFC 7946 GeoJSON).
///
/// Accepted: a FeatureCollection (or a single Feature) whose features have Polygon or
/// MultiPolygon geometry. Every ring must be closed and have at least 4 positions; positions
/// are `[longitude, latitude]` (a third value, altitude, is ignored). Ring orientation is not
/// checked: containment is even-odd, so clockwise and counter-clockwise rings read the same.
/// Each feature names its area through `properties[idProperty]` (a string, or a number written
/// as text) and optionally `properties[nameProperty]`. Anything else is refused with an error
/// naming the feature and path, never skipped.
enum GeoJSON {
    static func areas(from data: Data, idProperty: String = "id", nameProperty: String? = "name") throws(GeoJSONError) -> [AreaBoundary] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw GeoJSONError(.invalidJSON, "not valid JSON: \(error.localizedDescription)")
        }
        guard let document = root as? [String: Any], let type = document["type"] as? String else {
            throw GeoJSONError(.notFeatureCollection, "expected a GeoJSON object with a \"type\"")
        }
        let features: [Any]
        let featurePath: (Int) -> String
        switch type {
        case "FeatureCollection":
            guard let list = document["features"] as? [Any] else {
                throw GeoJSONError(.notFeatureCollection, "a FeatureCollection needs a \"features\" list", path: "features")
            }
            features = list
            featurePath = { "features[\($0)]" }
        case "Feature":
            features = [document]
            featurePath = { _ in "$" }
        default:
            throw GeoJSONError(.notFeatureCollection, "expected a FeatureCollection or Feature, got \(type)", path: "type")
        }

        var areas: [AreaBoundary] = []
        var firstFeatureByID: [String: Int] = [:]
        for (index, element) in features.enumerated() {
            let path = featurePath(index)
            guard let feature = element as? [String: Any], feature["type"] as? String == "Feature" else {
                throw GeoJSONError(.notFeatureCollection, "expected a Feature", feature: index, path: path)
            }
            let properties = feature["properties"] as? [String: Any] ?? [:]
            guard let id = text(properties[idProperty]), !id.isEmpty else {
                throw GeoJSONError(
                    .missingID, "no \"\(idProperty)\" property (a non-empty string or number)", feature: index,
                    path: "\(path).properties.\(idProperty)")
            }
            if let first = firstFeatureByID[id] {
                throw GeoJSONError(
                    .duplicateID, "area id \"\(id)\" is also used by feature \(first); give an area in several parts one MultiPolygon",
                    feature: index, path: "\(path).properties.\(idProperty)")
            }
            firstFeatureByID[id] = index
            let name = nameProperty.flatMap { text(properties[$0]) }
            let polygons = try geometry(feature["geometry"], feature: index, path: "\(path).geometry")
            areas.append(AreaBoundary(id: id, name: name, polygons: polygons))
        }
        return areas
    }

    private static func text(_ value: Any?) -> String? {
        guard let value, !isBoolean(value) else { return nil }
        switch value {
        case let string as String: return string
        case let integer as Int: return String(integer)
        case let number as Double: return number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
        default: return nil
        }
    }

    private static func geometry(_ value: Any?, feature: Int, path: String) throws(GeoJSONError) -> [AreaBoundary.Polygon] {
        guard let geometry = value as? [String: Any], let type = geometry["type"] as? String else {
            throw GeoJSONError(.missingGeometry, "the feature has no geometry", feature: feature, path: path)
        }
        switch type {
        case "Polygon":
            guard let rings = geometry["coordinates"] as? [Any] else {
                throw GeoJSONError(.missingGeometry, "a Polygon needs \"coordinates\": a list of rings", feature: feature, path: "\(path).coordinates")
            }
            return [try polygon(rings, feature: feature, path: "\(path).coordinates")]
        case "MultiPolygon":
            guard let list = geometry["coordinates"] as? [Any], !list.isEmpty else {
                throw GeoJSONError(
                    .missingGeometry, "a MultiPolygon needs \"coordinates\": a non-empty list of polygons", feature: feature,
                    path: "\(path).coordinates")
            }
            var polygons: [AreaBoundary.Polygon] = []
            for (index, element) in list.enumerated() {
                let polygonPath = "\(path).coordinates[\(index)]"
                guard let rings = element as? [Any] else {
                    throw GeoJSONError(.missingGeometry, "expected a list of rings", feature: feature, path: polygonPath)
                }
                polygons.append(try polygon(rings, feature: feature, path: polygonPath))
            }
            return polygons
        default:
            throw GeoJSONError(
                .unsupportedGeometry, "\(type) geometry is not supported; an area is a Polygon or MultiPolygon", feature: feature,
                path: "\(path).type")
        }
    }

    private static func polygon(_ rings: [Any], feature: Int, path: String) throws(GeoJSONError) -> AreaBoundary.Polygon {
        guard !rings.isEmpty else {
            throw GeoJSONError(.tooFewPositions, "a polygon needs an exterior ring", feature: feature, path: path)
        }
        var parsed: [AreaBoundary.Ring] = []
        for (index, element) in rings.enumerated() {
            parsed.append(try ring(element, feature: feature, path: "\(path)[\(index)]"))
        }
        return AreaBoundary.Polygon(exterior: parsed[0], holes: Array(parsed.dropFirst()))
    }

    private static func ring(_ value: Any, feature: Int, path: String) throws(GeoJSONError) -> AreaBoundary.Ring {
        guard let positions = value as? [Any] else {
            throw GeoJSONError(.invalidPosition, "a ring is a list of positions", feature: feature, path: path)
        }
        var points: [AreaBoundary.Point] = []
        for (index, element) in positions.enumerated() {
            let positionPath = "\(path)[\(index)]"
            guard let numbers = element as? [Any], numbers.count >= 2,
                let longitude = number(numbers[0]), let latitude = number(numbers[1])
            else {
                throw GeoJSONError(.invalidPosition, "a position is [longitude, latitude]", feature: feature, path: positionPath)
            }
            guard (-180...180).contains(longitude), (-90...90).contains(latitude) else {
                throw GeoJSONError(
                    .invalidPosition, "[\(longitude), \(latitude)] is outside longitude ±180 / latitude ±90 (order is [lon, lat])",
                    feature: feature, path: positionPath)
            }
            points.append(AreaBoundary.Point(longitude: longitude, latitude: latitude))
        }
        guard points.count >= 4 else {
            throw GeoJSONError(
                .tooFewPositions, "a ring needs at least 4 positions (3 corners and the first repeated), got \(points.count)",
                feature: feature, path: path)
        }
        guard points.first == points.last else {
            throw GeoJSONError(.unclosedRing, "the ring's last position must repeat its first", feature: feature, path: path)
        }
        return AreaBoundary.Ring(points: points)
    }

    /// JSON `true` arrives as an NSNumber that also casts to 1; its type code tells it apart.
    private static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func number(_ value: Any) -> Double? {
        if isBoolean(value) { return nil }
        guard let number = value as? Double, number.isFinite else { return nil }
        return number
    }
}
