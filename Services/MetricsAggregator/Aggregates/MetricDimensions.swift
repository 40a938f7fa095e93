/// The dimensions of one aggregate row. `*` means "all": `area/*` is an area's total,
/// `*/*` the coalition's total, and a category group row is `*/*` plus `category_group`.
public struct MetricDimensions: Hashable, Sendable {
    public static let all = "*"

    public var area: String
    public var category: String
    public var group: String?

    public init(area: String = MetricDimensions.all, category: String = MetricDimensions.all, group: String? = nil) {
        self.area = area
        self.category = category
        self.group = group
    }

    /// The dimensions part of the Kafka key and of `metric_windows.dimension_key`.
    public var key: String {
        if let group { return "\(area)/\(category)/\(group)" }
        return "\(area)/\(category)"
    }

    public var object: [String: String] {
        var object = ["area": area, "category": category]
        if let group { object["category_group"] = group }
        return object
    }

    /// Every row one incident counts in: area × category, area total, category group, total,
    /// and the category over all areas. (Index 2, the group, has no response-time row.)
    static func of(_ incident: CountedIncident) -> [MetricDimensions] {
        [
            MetricDimensions(area: incident.area, category: incident.category),
            MetricDimensions(area: incident.area),
            MetricDimensions(group: incident.group),
            MetricDimensions(),
            MetricDimensions(category: incident.category),
        ]
    }
}
