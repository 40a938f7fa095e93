import Contracts
import Foundation

extension CanonicalIncident {
    /// The `coalition.incident.v1` document, exactly `CoalitionJSON.encoder.encode(self)`
    /// (consumers parse it, and the tests hold the two equal byte for byte).
    var canonicalJSON: [UInt8] {
        var writer = CanonicalJSONWriter(capacity: 1024)
        writer.beginObject()
        if let areaHint { writer.name("area_hint"); writer.string(areaHint) }
        writer.name("area_id"); writer.string(areaId)
        if let attributes { writer.name("attributes"); writer.object(attributes) }
        writer.name("category"); writer.string(category.rawValue)
        writer.name("category_group"); writer.string(categoryGroup.rawValue)
        if let cell { writer.name("cell"); writer.string(cell) }
        if let closedAt { writer.name("closed_at"); writer.date(closedAt) }
        if let description { writer.name("description"); writer.string(description) }
        writer.name("external_id"); writer.string(externalId)
        writer.name("id"); writer.string(id.lowercaseText)
        writer.name("ingested_at"); writer.date(ingestedAt)
        if let location { writer.name("location"); writer.location(location) }
        writer.name("occurred_at"); writer.date(occurredAt)
        if let reportedAt { writer.name("reported_at"); writer.date(reportedAt) }
        writer.name("revision"); writer.number(revision)
        writer.name("sensitive"); writer.bool(sensitive)
        writer.name("severity"); writer.number(severity)
        writer.name("source"); writer.string(source)
        writer.name("source_category"); writer.string(sourceCategory)
        if let status { writer.name("status"); writer.string(status) }
        writer.name("taxonomy_version"); writer.number(taxonomyVersion)
        if let updatedAt { writer.name("updated_at"); writer.date(updatedAt) }
        writer.endObject()
        return writer.bytes
    }
}
