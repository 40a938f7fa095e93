import Foundation

/// Where an incident happened, as a source reports it (SPEC §4.1): WGS84 coordinates, a
/// street address, or both. `lat` and `lon` are either both present or both absent.
public struct IncidentLocation: Codable, Sendable, Equatable {
    public var lat: Double?
    public var lon: Double?
    public var address: String?

    public init(lat: Double? = nil, lon: Double? = nil, address: String? = nil) {
        self.lat = lat
        self.lon = lon
        self.address = address
    }

    /// The point, when the location has one.
    public var coordinate: (lat: Double, lon: Double)? {
        guard let lat, let lon else { return nil }
        return (lat, lon)
    }
}

/// An incident as an upstream system sends it (SPEC §4.1), after validation: times are
/// parsed, the location rule holds, and nothing has been mapped or corrected yet.
/// `source` + `externalId` identify it; sending the same pair again is an update.
public struct RawIncident: Codable, Sendable, Equatable {
    public var source: String
    public var externalId: String
    /// The source's own label, mapped onto the taxonomy during normalisation.
    public var category: String
    public var description: String?
    public var occurredAt: Date
    public var reportedAt: Date?
    public var closedAt: Date?
    public var updatedAt: Date?
    /// The source's status word (`open`, `closed`, …), kept as sent.
    public var status: String?
    public var location: IncidentLocation?
    public var areaHint: String?
    /// 1–5 when the source grades it; otherwise the category's default applies.
    public var severity: Int?
    public var attributes: [String: String]?

    public init(
        source: String,
        externalId: String,
        category: String,
        description: String? = nil,
        occurredAt: Date,
        reportedAt: Date? = nil,
        closedAt: Date? = nil,
        updatedAt: Date? = nil,
        status: String? = nil,
        location: IncidentLocation? = nil,
        areaHint: String? = nil,
        severity: Int? = nil,
        attributes: [String: String]? = nil
    ) {
        self.source = source
        self.externalId = externalId
        self.category = category
        self.description = description
        self.occurredAt = occurredAt
        self.reportedAt = reportedAt
        self.closedAt = closedAt
        self.updatedAt = updatedAt
        self.status = status
        self.location = location
        self.areaHint = areaHint
        self.severity = severity
        self.attributes = attributes
    }
}

/// The canonical incident, `coalition.incident.v1` on `incidents.normalized` (SPEC §4.2):
/// everything the source sent plus identity, revision, the taxonomy mapping, severity,
/// sensitivity, area and cell. Every revision is published whole.
///
/// JSON keys are the snake_case of the property names (`external_id`, `source_category`,
/// `category_group`, `area_id`, `ingested_at`, `taxonomy_version`, …) through `CoalitionJSON`.
/// Absent optionals are omitted, not written as `null`.
public struct CanonicalIncident: Codable, Sendable, Equatable {
    /// UUIDv5 of `source` and `externalId`: the same for every revision.
    @LowercaseUUID public var id: UUID
    /// 1 for the first version received, incremented by every update.
    public var revision: Int
    public var source: String
    public var externalId: String
    /// The canonical code the source's label maps to.
    public var category: IncidentCategory
    /// The label exactly as the source sent it (`category` of the raw incident).
    public var sourceCategory: String
    public var categoryGroup: CategoryGroup
    public var description: String?
    public var occurredAt: Date
    public var reportedAt: Date?
    public var closedAt: Date?
    public var updatedAt: Date?
    public var status: String?
    public var location: IncidentLocation?
    public var areaHint: String?
    /// The area the incident belongs to; `unassigned` when neither its point nor its hint resolves.
    public var areaId: String
    /// Geohash of precision 7 (about 150 m); `nil` without coordinates.
    public var cell: String?
    /// 1–5: the source's own, else the category's default.
    public var severity: Int
    public var sensitive: Bool
    public var attributes: [String: String]?
    public var ingestedAt: Date
    public var taxonomyVersion: Int

    public init(
        id: UUID,
        revision: Int,
        source: String,
        externalId: String,
        category: IncidentCategory,
        sourceCategory: String,
        categoryGroup: CategoryGroup,
        description: String? = nil,
        occurredAt: Date,
        reportedAt: Date? = nil,
        closedAt: Date? = nil,
        updatedAt: Date? = nil,
        status: String? = nil,
        location: IncidentLocation? = nil,
        areaHint: String? = nil,
        areaId: String,
        cell: String? = nil,
        severity: Int,
        sensitive: Bool,
        attributes: [String: String]? = nil,
        ingestedAt: Date,
        taxonomyVersion: Int = IncidentCategory.taxonomyVersion
    ) {
        self.id = id
        self.revision = revision
        self.source = source
        self.externalId = externalId
        self.category = category
        self.sourceCategory = sourceCategory
        self.categoryGroup = categoryGroup
        self.description = description
        self.occurredAt = occurredAt
        self.reportedAt = reportedAt
        self.closedAt = closedAt
        self.updatedAt = updatedAt
        self.status = status
        self.location = location
        self.areaHint = areaHint
        self.areaId = areaId
        self.cell = cell
        self.severity = severity
        self.sensitive = sensitive
        self.attributes = attributes
        self.ingestedAt = ingestedAt
        self.taxonomyVersion = taxonomyVersion
    }
}
