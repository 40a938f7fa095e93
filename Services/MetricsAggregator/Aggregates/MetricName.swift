import Contracts

/// The metrics the aggregator keeps (`GET /v1/metrics/{name}`), each with its topic, the
/// dimensions its rows are split by, and the names of its values in `coalition.metric.v1`.
public enum MetricName: String, CaseIterable, Sendable, Codable {
    case incidents
    case responseTimes = "response-times"
    case alerts
    case engagement
    case perceivedSafety = "perceived-safety"

    /// A small stable number for the update log's binary entries.
    var code: UInt8 {
        switch self {
        case .incidents: 0
        case .responseTimes: 1
        case .alerts: 2
        case .engagement: 3
        case .perceivedSafety: 4
        }
    }

    init?(code: UInt8) {
        guard let metric = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = metric
    }

    var topic: Topic {
        switch self {
        case .incidents: .metricsIncidents
        case .responseTimes: .metricsResponseTimes
        case .alerts: .metricsAlerts
        case .engagement, .perceivedSafety: .metricsEngagement
        }
    }

    /// The dimensions of a row, in key order (`<first>/<second>`); incident counts also have
    /// `*/*/<category_group>` rows.
    var dimensionNames: [String] {
        switch self {
        case .incidents, .responseTimes: ["area", "category"]
        case .alerts: ["channel", "role"]
        case .engagement, .perceivedSafety: ["area", "role"]
        }
    }

    /// The values besides `count` (which every row has), in the order the update log stores them.
    var valueNames: [String] {
        switch self {
        case .incidents: []
        case .responseTimes: ["p50_seconds", "p90_seconds", "mean_seconds"]
        case .alerts:
            ["delivered", "failed", "suppressed_deliveries", "cancelled", "success_ratio", "latency_p50_ms", "latency_p95_ms", "latency_mean_ms"]
        case .engagement:
            ["meetings_scheduled", "meetings_held", "invitations", "rsvps_accepted", "rsvps_declined", "rsvps_tentative", "attended",
             "attendance_rate"]
        case .perceivedSafety: ["responses", "mean_score"]
        }
    }

    /// Whether the row's count may reveal a sensitive incident (SPEC §6: withheld below k).
    func isSensitive(_ dimensions: DimensionSet) -> Bool {
        switch self {
        case .incidents, .responseTimes: SuppressionRule.sensitiveCategories.contains(dimensions.object["category"] ?? "")
        default: false
        }
    }
}

/// The dimension values of one row, e.g. `area-05/theft` or `webhook/resident`; `*` means
/// all. `key` is the dimensions part of the Kafka key and of `metric_dimension_sets`.
public struct DimensionSet: Hashable, Sendable {
    public var key: String
    public var object: [String: String]

    public init(key: String, object: [String: String]) {
        self.key = key
        self.object = object
    }

    /// `first/second` under the metric's dimension names.
    init(_ metric: MetricName, _ first: String, _ second: String) {
        let names = metric.dimensionNames
        self.init(key: first + "/" + second, object: [names[0]: first, names[1]: second])
    }

    public static func == (left: DimensionSet, right: DimensionSet) -> Bool { left.key == right.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}

extension MetricDimensions {
    var set: DimensionSet { DimensionSet(key: key, object: object) }
}
