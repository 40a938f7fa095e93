import Contracts
import Foundation

/// Turns a validated `RawIncident` into the canonical incident (SPEC §4.2): identity,
/// taxonomy mapping, severity, sensitivity, area and cell. It is pure and runs once per
/// record, so everything it needs from outside (the category mapping, the areas) comes in
/// as lookups the caller keeps in memory; revision and ingestion time come from the store.
struct IncidentNormalizer: Sendable {
    /// The source's mapping table: the canonical category for `(source, label)`, or `nil`
    /// when the table has no entry. The label is passed exactly as the source sent it.
    typealias CategoryLookup = @Sendable (_ source: String, _ label: String) -> IncidentCategory?

    /// The area of a point (polygon containment) or else of the source's area hint; `nil`
    /// when neither resolves.
    typealias AreaResolver = @Sendable (_ coordinate: (lat: Double, lon: Double)?, _ areaHint: String?) -> String?

    /// The canonical incident and whether its label had no mapping (and became `other`),
    /// which the caller counts and reports to the operator.
    struct Normalized: Sendable, Equatable {
        var incident: CanonicalIncident
        var unmapped: Bool
    }

    /// `area_id` of an incident no area claims.
    static let unassignedArea = "unassigned"

    var lookupCategory: CategoryLookup
    var resolveArea: AreaResolver

    init(lookupCategory: @escaping CategoryLookup, resolveArea: @escaping AreaResolver) {
        self.lookupCategory = lookupCategory
        self.resolveArea = resolveArea
    }

    /// The mapping order of SPEC §4.2: the source's table, then the label itself when it
    /// is a canonical code, else `other`.
    func category(source: String, label: String) -> (category: IncidentCategory, unmapped: Bool) {
        if let mapped = lookupCategory(source, label) { return (mapped, false) }
        if let canonical = IncidentCategory(code: label) { return (canonical, false) }
        return (.other, true)
    }

    /// - Parameters:
    ///   - revision: 1 for the first version of this `source` + `external_id`, then +1 per update.
    ///   - ingestedAt: when this revision was accepted.
    func normalize(_ raw: RawIncident, revision: Int, ingestedAt: Date) -> Normalized {
        normalize(raw, id: IncidentIdentity.id(source: raw.source, externalId: raw.externalId), revision: revision, ingestedAt: ingestedAt)
    }

    /// `normalize(_:revision:ingestedAt:)` with the id already computed (`PreparedIncident`).
    func normalize(_ raw: RawIncident, id: UUID, revision: Int, ingestedAt: Date) -> Normalized {
        let (category, unmapped) = category(source: raw.source, label: raw.category)
        let coordinate = raw.location?.coordinate
        let incident = CanonicalIncident(
            id: id,
            revision: revision,
            source: raw.source,
            externalId: raw.externalId,
            category: category,
            sourceCategory: raw.category,
            categoryGroup: category.group,
            description: raw.description,
            occurredAt: raw.occurredAt,
            reportedAt: raw.reportedAt,
            closedAt: raw.closedAt,
            updatedAt: raw.updatedAt,
            status: raw.status,
            location: raw.location,
            areaHint: raw.areaHint,
            areaId: resolveArea(coordinate, raw.areaHint) ?? Self.unassignedArea,
            // Sensitive incidents keep their cell here: the canonical stream is internal, and
            // generalisation happens where an incident leaves the law-enforcement scope (SPEC §6).
            cell: coordinate.map { Geohash.encode(lat: $0.lat, lon: $0.lon, precision: Geohash.incidentCellPrecision) },
            severity: raw.severity ?? category.defaultSeverity,
            sensitive: category.isSensitive,
            attributes: raw.attributes,
            ingestedAt: ingestedAt,
            taxonomyVersion: IncidentCategory.taxonomyVersion)
        return Normalized(incident: incident, unmapped: unmapped)
    }
}
