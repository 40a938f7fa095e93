import Contracts
import Foundation

/// Reads the members of a `coalition.incident.v1` payload the metrics depend on — id,
/// revision, times, area, category, group, cell, sensitivity — in one pass over the bytes,
/// skipping the rest (description, attributes, location…). It checks what it reads as
/// strictly as decoding a `CanonicalIncident` would: a missing or malformed member is an
/// error naming it, and the record goes to the dead-letter topic.
enum IncidentEventReader {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ bytes: [UInt8]) throws -> CountedIncident {
        var scanner = JSONScanner(bytes)
        var id: UUID?
        var revision: Int?
        var occurredAt: Date?
        var reportedAt: Date?
        var closedAt: Date?
        var area: String?
        var category: String?
        var group: String?
        var cell: String?
        var sensitive: Bool?
        do {
            try scanner.beginObject()
            while let key = try scanner.nextKey() {
                switch key {
                case Keys.id:
                    guard let value = UUID(uuidString: try scanner.readString()) else { throw Invalid(description: "id is not a UUID") }
                    id = value
                case Keys.revision: revision = try scanner.readInteger()
                case Keys.occurredAt:
                    guard let value = try scanner.readTimestamp() else { throw Invalid(description: "occurred_at is not an RFC 3339 time with offset") }
                    occurredAt = value
                case Keys.reportedAt:
                    guard let value = try scanner.readOptionalTimestamp() else { throw Invalid(description: "reported_at is not an RFC 3339 time with offset") }
                    reportedAt = value
                case Keys.closedAt:
                    guard let value = try scanner.readOptionalTimestamp() else { throw Invalid(description: "closed_at is not an RFC 3339 time with offset") }
                    closedAt = value
                case Keys.areaId: area = try scanner.readString()
                case Keys.category: category = try scanner.readString()
                case Keys.categoryGroup: group = try scanner.readString()
                case Keys.cell: cell = try scanner.readOptionalString()
                case Keys.sensitive: sensitive = try scanner.readBool()
                default: try scanner.skipValue()
                }
            }
            try scanner.end()
        } catch let failure as JSONScanner.Failure {
            throw Invalid(description: failure.description)
        }
        guard let id else { throw missing("id") }
        guard let revision else { throw missing("revision") }
        guard revision >= 1 else { throw Invalid(description: "revision must be at least 1") }
        guard let occurredAt else { throw missing("occurred_at") }
        guard let area else { throw missing("area_id") }
        guard let category else { throw missing("category") }
        guard IncidentCategory(rawValue: category) != nil else { throw Invalid(description: "category \"\(category)\" is not in taxonomy v1") }
        guard let group else { throw missing("category_group") }
        guard CategoryGroup(rawValue: group) != nil else { throw Invalid(description: "category_group \"\(group)\" is not a group") }
        guard let sensitive else { throw missing("sensitive") }
        return CountedIncident(
            id: id, revision: revision, occurredAt: occurredAt, reportedAt: reportedAt, closedAt: closedAt, area: area, category: category,
            group: group, cell: cell.map { String($0.prefix(6)) }, sensitive: sensitive)
    }

    private static func missing(_ name: String) -> Invalid { Invalid(description: "\(name) is missing") }

    private enum Keys {
        static let id = Array("id".utf8)
        static let revision = Array("revision".utf8)
        static let occurredAt = Array("occurred_at".utf8)
        static let reportedAt = Array("reported_at".utf8)
        static let closedAt = Array("closed_at".utf8)
        static let areaId = Array("area_id".utf8)
        static let category = Array("category".utf8)
        static let categoryGroup = Array("category_group".utf8)
        static let cell = Array("cell".utf8)
        static let sensitive = Array("sensitive".utf8)
    }
}
