/// Why a GeoJSON area file was refused. Names the feature (0-based) and the JSON path.
struct GeoJSONError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        static let invalidJSON = Code(raw: "invalid_json")
        /// The document is not a FeatureCollection (or a single Feature).
        static let notFeatureCollection = Code(raw: "not_feature_collection")
        /// A feature has no geometry, or geometry of the wrong shape.
        static let missingGeometry = Code(raw: "missing_geometry")
        /// Geometry other than Polygon or MultiPolygon (Point, LineString, GeometryCollection…).
        static let unsupportedGeometry = Code(raw: "unsupported_geometry")
        /// A position is not [longitude, latitude] in range.
        static let invalidPosition = Code(raw: "invalid_position")
        /// A ring whose last position differs from its first.
        static let unclosedRing = Code(raw: "unclosed_ring")
        /// A ring with fewer than 4 positions, or a polygon without rings.
        static let tooFewPositions = Code(raw: "too_few_positions")
        /// The id property is absent, empty or not a string or number.
        static let missingID = Code(raw: "missing_id")
        /// Two features share an id (use one MultiPolygon for an area in several parts).
        static let duplicateID = Code(raw: "duplicate_id")
        var description: String { raw }
    }

    var code: Code
    var message: String
    /// The index of the offending feature in `features`.
    var feature: Int?
    /// Where in the document, e.g. `features[3].geometry.coordinates[0][2]`.
    var path: String?
    var file: String
    var line: Int

    init(_ code: Code, _ message: String, feature: Int? = nil, path: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.feature = feature
        self.path = path
        self.file = file
        self.line = line
    }

    var description: String {
        if let path { return "GeoJSONError.\(code) at \(path): \(message)" }
        return "GeoJSONError.\(code): \(message)"
    }
}
