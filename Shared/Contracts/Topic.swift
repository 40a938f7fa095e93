/// Every Kafka topic of SPEC §3, with the partition count and configuration
/// `coalition topics create` gives it. Names are prefixed with `COALITION_TOPIC_PREFIX`
/// so several deployments can share one cluster.
public enum Topic: String, CaseIterable, Sendable {
    case incidentsRaw = "incidents.raw"
    case incidentsNormalized = "incidents.normalized"
    case incidentsRejected = "incidents.rejected"
    case alertsRequested = "alerts.requested"
    case alertsDelivered = "alerts.delivered"
    case meetingsEvents = "meetings.events"
    case feedbackResponses = "feedback.responses"
    case metricsIncidents = "metrics.incidents"
    case metricsResponseTimes = "metrics.response-times"
    case metricsAlerts = "metrics.alerts"
    case metricsEngagement = "metrics.engagement"
    case metricsHotspots = "metrics.hotspots"

    /// Partitions bound how many members of one consumer group can share the work.
    public var partitions: Int {
        switch self {
        case .incidentsRaw, .incidentsNormalized: 6
        default: 3
        }
    }

    /// Metric topics keep only the latest value per key: a corrected window replaces the old one.
    public var configuration: [String: String] {
        switch self {
        case .metricsIncidents, .metricsResponseTimes, .metricsAlerts, .metricsEngagement, .metricsHotspots:
            ["cleanup.policy": "compact", "retention.ms": "-1"]
        default:
            ["cleanup.policy": "delete", "retention.ms": "604800000"]
        }
    }

    /// Whether consumers of this topic park unprocessable records on `<topic>.dlt`.
    /// Metric topics are consumed by dashboards outside the system, so they have none.
    public var hasDeadLetterTopic: Bool {
        switch self {
        case .metricsIncidents, .metricsResponseTimes, .metricsAlerts, .metricsEngagement, .metricsHotspots:
            false
        default:
            true
        }
    }

    public func name(prefix: String) -> String { prefix + rawValue }

    public func deadLetterName(prefix: String) -> String { DeadLetterTopic.name(for: name(prefix: prefix)) }
}

public enum DeadLetterTopic {
    public static let suffix = ".dlt"
    public static let partitions = 1
    public static func name(for topic: String) -> String { topic + suffix }
}
