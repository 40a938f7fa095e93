import Contracts
import Foundation
import Testing

@testable import IncidentIngestion

@Suite("Incident normalisation")
struct NormalizationNormalizerTests {
    static let ingestedAt = RFC3339.date(from: "2025-03-14T05:21:00Z")!

    static func raw(
        source: String = "nyc-311", category: String = "Animal-Abuse", location: IncidentLocation? = IncidentLocation(lat: 40.65651334, lon: -73.88182509),
        areaHint: String? = "05 BROOKLYN", severity: Int? = nil
    ) -> RawIncident {
        RawIncident(
            source: source, externalId: "64345465", category: category, description: "Neglected",
            occurredAt: RFC3339.date(from: "2025-03-14T01:20:00-04:00")!, status: "open", location: location,
            areaHint: areaHint, severity: severity, attributes: ["agency": "NYPD"])
    }

    /// A mapping table with one entry per source and areas by hint only.
    static let normalizer = IncidentNormalizer(
        lookupCategory: { source, label in
            switch (source, label) {
            case ("nyc-311", "Animal-Abuse"): .animal
            case ("nyc-311", "Noise - Residential"): .noise
            case ("cpd", "CRIM SEXUAL ASSAULT"): .sexOffense
            case ("cpd", "theft"): .robbery  // the table wins over the self-mapping
            default: nil
            }
        },
        resolveArea: { coordinate, hint in
            if let coordinate, coordinate.lat > 40, coordinate.lat < 41 { return "nyc-bk-05" }
            return hint == "CHI 11" ? "chi-11" : nil
        })

    @Test("a mapped incident carries identity, mapping, severity, area and cell")
    func mapped() {
        let result = Self.normalizer.normalize(Self.raw(), revision: 3, ingestedAt: Self.ingestedAt)
        let incident = result.incident
        #expect(!result.unmapped)
        #expect(incident.id == IncidentIdentity.id(source: "nyc-311", externalId: "64345465"))
        #expect(incident.revision == 3)
        #expect(incident.category == .animal)
        #expect(incident.sourceCategory == "Animal-Abuse")
        #expect(incident.categoryGroup == .nonCriminal)
        #expect(incident.severity == IncidentCategory.animal.defaultSeverity)
        #expect(!incident.sensitive)
        #expect(incident.areaId == "nyc-bk-05")
        #expect(incident.cell == "dr5rqc2")
        #expect(incident.cell?.count == 7)
        #expect(incident.ingestedAt == Self.ingestedAt)
        #expect(incident.taxonomyVersion == 1)
        // Everything the source sent is kept.
        #expect(incident.source == "nyc-311")
        #expect(incident.externalId == "64345465")
        #expect(incident.description == "Neglected")
        #expect(incident.occurredAt == Self.raw().occurredAt)
        #expect(incident.status == "open")
        #expect(incident.location == IncidentLocation(lat: 40.65651334, lon: -73.88182509))
        #expect(incident.areaHint == "05 BROOKLYN")
        #expect(incident.attributes == ["agency": "NYPD"])
    }

    @Test("the mapping table wins; then a canonical code maps to itself; else other, flagged")
    func categoryFallback() {
        func normalize(_ source: String, _ label: String) -> (IncidentCategory, Bool) {
            let result = Self.normalizer.normalize(Self.raw(source: source, category: label), revision: 1, ingestedAt: Self.ingestedAt)
            #expect(result.incident.sourceCategory == label)
            return (result.incident.category, result.unmapped)
        }
        #expect(normalize("cpd", "theft") == (.robbery, false))
        #expect(normalize("nyc-311", "theft") == (.theft, false))
        #expect(normalize("nyc-311", " Motor_Vehicle_Theft ") == (.motorVehicleTheft, false))
        #expect(normalize("nyc-311", "other") == (.other, false))
        #expect(normalize("nyc-311", "Illegal Fireworks") == (.other, true))
        #expect(normalize("cpd", "Animal-Abuse") == (.other, true))
    }

    @Test("severity: the source's own wins over the category default")
    func severity() {
        #expect(Self.normalizer.normalize(Self.raw(severity: 5), revision: 1, ingestedAt: Self.ingestedAt).incident.severity == 5)
        #expect(Self.normalizer.normalize(Self.raw(category: "homicide"), revision: 1, ingestedAt: Self.ingestedAt).incident.severity == 5)
        #expect(Self.normalizer.normalize(Self.raw(category: "Illegal Fireworks"), revision: 1, ingestedAt: Self.ingestedAt).incident.severity == 1)
    }

    @Test("sensitive categories are flagged and grouped with crimes against persons")
    func sensitive() {
        let incident = Self.normalizer.normalize(Self.raw(source: "cpd", category: "CRIM SEXUAL ASSAULT"), revision: 1, ingestedAt: Self.ingestedAt).incident
        #expect(incident.category == .sexOffense)
        #expect(incident.sensitive)
        #expect(incident.categoryGroup == .person)
        #expect(incident.severity == 4)
        let domestic = Self.normalizer.normalize(Self.raw(category: "domestic_violence"), revision: 1, ingestedAt: Self.ingestedAt).incident
        #expect(domestic.sensitive)
    }

    @Test("areas: resolver first, unassigned otherwise; no coordinates, no cell")
    func areasAndCells() {
        let byHint = Self.normalizer.normalize(Self.raw(location: nil, areaHint: "CHI 11"), revision: 1, ingestedAt: Self.ingestedAt).incident
        #expect(byHint.areaId == "chi-11")
        #expect(byHint.cell == nil)
        let addressOnly = Self.normalizer.normalize(
            Self.raw(location: IncidentLocation(address: "285 COZINE AVENUE"), areaHint: "nowhere"), revision: 1, ingestedAt: Self.ingestedAt
        ).incident
        #expect(addressOnly.areaId == IncidentNormalizer.unassignedArea)
        #expect(addressOnly.areaId == "unassigned")
        #expect(addressOnly.cell == nil)
        let elsewhere = Self.normalizer.normalize(
            Self.raw(location: IncidentLocation(lat: -33.8688, lon: 151.2093), areaHint: nil), revision: 1, ingestedAt: Self.ingestedAt
        ).incident
        #expect(elsewhere.areaId == "unassigned")
        #expect(elsewhere.cell == "r3gx2f7")
    }

    @Test("the resolver receives the point and the hint as sent")
    func resolverArguments() {
        let normalizer = IncidentNormalizer(
            lookupCategory: { _, _ in nil },
            resolveArea: { coordinate, hint in "\(coordinate.map { "\($0.lat),\($0.lon)" } ?? "-")|\(hint ?? "-")" })
        #expect(normalizer.normalize(Self.raw(), revision: 1, ingestedAt: Self.ingestedAt).incident.areaId == "40.65651334,-73.88182509|05 BROOKLYN")
        #expect(normalizer.normalize(Self.raw(location: nil, areaHint: nil), revision: 1, ingestedAt: Self.ingestedAt).incident.areaId == "-|-")
    }

    @Test("the canonical incident's JSON keys are the specification's snake_case names")
    func canonicalJSONKeys() throws {
        var raw = Self.raw(severity: 2)
        raw.reportedAt = raw.occurredAt
        raw.closedAt = raw.occurredAt
        raw.updatedAt = raw.occurredAt
        raw.location?.address = "285 COZINE AVENUE"
        raw.attributes = ["agency": "NYPD", "callerType": "x", "incident_zip": "11208"]
        let incident = Self.normalizer.normalize(raw, revision: 1, ingestedAt: Self.ingestedAt).incident
        let data = try CoalitionJSON.encoder.encode(incident)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == [
            "id", "revision", "source", "external_id", "category", "source_category", "category_group",
            "description", "occurred_at", "reported_at", "closed_at", "updated_at", "status", "location",
            "area_hint", "area_id", "cell", "severity", "sensitive", "attributes", "ingested_at",
            "taxonomy_version",
        ])
        let location = try #require(object["location"] as? [String: Any])
        #expect(Set(location.keys) == ["lat", "lon", "address"])
        // Attribute names are data, not keys of the contract: they pass through unchanged.
        #expect(Set(try #require(object["attributes"] as? [String: Any]).keys) == ["agency", "callerType", "incident_zip"])
        #expect(object["id"] as? String == incident.id.uuidString.lowercased())
        #expect(object["category"] as? String == "animal")
        #expect(object["category_group"] as? String == "non_criminal")
        #expect(object["sensitive"] as? Bool == false)
        #expect(object["taxonomy_version"] as? Int == 1)
        #expect(object["occurred_at"] as? String == "2025-03-14T05:20:00.000Z")
        #expect(try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: data) == incident)
    }

    @Test("absent optionals are omitted from the JSON")
    func absentOptionals() throws {
        let raw = RawIncident(source: "s", externalId: "1", category: "noise", occurredAt: Self.ingestedAt, areaHint: "x")
        let incident = Self.normalizer.normalize(raw, revision: 1, ingestedAt: Self.ingestedAt).incident
        let object = try #require(try JSONSerialization.jsonObject(with: CoalitionJSON.encoder.encode(incident)) as? [String: Any])
        #expect(Set(object.keys) == [
            "id", "revision", "source", "external_id", "category", "source_category", "category_group",
            "occurred_at", "area_hint", "area_id", "severity", "sensitive", "ingested_at", "taxonomy_version",
        ])
    }

    @Test("validated specification example normalises end to end")
    func endToEnd() throws {
        let raw = try IncidentValidator.validate(json: Array(NormalizationValidatorTests.specExample.utf8)).get()
        let result = Self.normalizer.normalize(raw, revision: 1, ingestedAt: Self.ingestedAt)
        #expect(!result.unmapped)
        #expect(result.incident.category == .animal)
        #expect(result.incident.areaId == "nyc-bk-05")
        #expect(result.incident.id == UUID(uuidString: "50667f28-42e9-5c30-9481-2d6d5b277f26"))
    }
}
