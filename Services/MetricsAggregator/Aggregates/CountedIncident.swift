import Contracts
import Foundation

/// The part of an incident revision the metrics depend on, as `metric_incident_state` keeps it.
public struct CountedIncident: Sendable, Equatable {
    public var id: UUID
    public var revision: Int
    public var occurredAt: Date
    public var reportedAt: Date?
    public var closedAt: Date?
    public var area: String
    public var category: String
    public var group: String
    /// Geohash precision 6 (about 1.2 × 0.6 km): the hotspot cell.
    public var cell: String?
    public var sensitive: Bool

    public init(
        id: UUID, revision: Int, occurredAt: Date, reportedAt: Date? = nil, closedAt: Date? = nil, area: String, category: String,
        group: String, cell: String? = nil, sensitive: Bool = false
    ) {
        self.id = id
        self.revision = revision
        self.occurredAt = occurredAt
        self.reportedAt = reportedAt
        self.closedAt = closedAt
        self.area = area
        self.category = category
        self.group = group
        self.cell = cell
        self.sensitive = sensitive
    }

    public init(_ incident: CanonicalIncident) {
        self.init(
            id: incident.id, revision: incident.revision, occurredAt: incident.occurredAt, reportedAt: incident.reportedAt,
            closedAt: incident.closedAt, area: incident.areaId, category: incident.category.rawValue,
            group: incident.categoryGroup.rawValue, cell: incident.cell.map { String($0.prefix(6)) }, sensitive: incident.sensitive)
    }
}
