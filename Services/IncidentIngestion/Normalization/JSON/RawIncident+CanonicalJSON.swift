import Contracts
import Foundation

extension RawIncident {
    /// The incident in the canonical JSON dialect, exactly `CoalitionJSON.encoder.encode(self)`:
    /// the content hash is taken over these bytes, so they must not change for stored incidents.
    var canonicalJSON: [UInt8] {
        var writer = CanonicalJSONWriter()
        writer.beginObject()
        if let areaHint { writer.name("area_hint"); writer.string(areaHint) }
        if let attributes { writer.name("attributes"); writer.object(attributes) }
        writer.name("category"); writer.string(category)
        if let closedAt { writer.name("closed_at"); writer.date(closedAt) }
        if let description { writer.name("description"); writer.string(description) }
        writer.name("external_id"); writer.string(externalId)
        if let location { writer.name("location"); writer.location(location) }
        writer.name("occurred_at"); writer.date(occurredAt)
        if let reportedAt { writer.name("reported_at"); writer.date(reportedAt) }
        if let severity { writer.name("severity"); writer.number(severity) }
        writer.name("source"); writer.string(source)
        if let status { writer.name("status"); writer.string(status) }
        if let updatedAt { writer.name("updated_at"); writer.date(updatedAt) }
        writer.endObject()
        return writer.bytes
    }
}

extension CanonicalJSONWriter {
    mutating func location(_ location: IncidentLocation) {
        beginObject()
        if let address = location.address { name("address"); string(address) }
        if let lat = location.lat { name("lat"); number(lat) }
        if let lon = location.lon { name("lon"); number(lon) }
        endObject()
    }
}
