import Contracts
import Crypto
import Foundation
import Logging
import Metrics
import Postgres
import ServiceKit

/// Persists incidents and their revision history and publishes each new revision through the
/// outbox, all in one transaction per batch: an accepted incident is never lost and a revision
/// is never published without being stored (or the other way round).
public struct IncidentStore: Sendable {
    static let eventSource = "/coalition/incident-ingestion"

    private let postgres: PostgresClient
    private let areas: AreaCatalog
    private let logger: Logger
    private let clock: @Sendable () -> Date

    public init(postgres: PostgresClient, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.postgres = postgres
        self.areas = AreaCatalog(postgres: postgres)
        self.logger = logger
        self.clock = clock
    }

    /// Stores `incidents` (already validated) and keeps `rejected` on `incidents.rejected`.
    /// An incident of a source nobody registered is rejected too (`source unknown_source`).
    /// Returns one outcome per incident, in order.
    public func ingest(_ incidents: [RawIncident], rejected: [RejectedSubmission] = [], channel: String = "http") async throws -> [IntakeOutcome] {
        try await postgres.withTransaction { connection in
            let now = clock()
            let sources = Array(Set(incidents.map(\.source)))
            let registered = Set(try await connection.query("SELECT id FROM sources WHERE id = ANY(\(sources))").map { try $0.decode(0, as: String.self) })
            let normalizers = try await makeNormalizers(sources: registered, connection: connection)
            var outcomes: [IntakeOutcome] = []
            outcomes.reserveCapacity(incidents.count)
            var rejections = rejected
            for raw in incidents {
                guard let normalizer = normalizers[raw.source] else {
                    let error = ProblemDetails.FieldError(field: "source", code: "unknown_source", message: "no source \(raw.source) is registered")
                    rejections.append(RejectedSubmission(
                        source: raw.source, externalId: raw.externalId, original: Array(try CoalitionJSON.encoder.encode(raw)),
                        errors: [error], channel: channel))
                    outcomes.append(IntakeOutcome(externalId: raw.externalId, id: nil, revision: nil, status: .rejected, errors: [error]))
                    continue
                }
                outcomes.append(try await store(raw, normalizer: normalizer, now: now, connection: connection))
            }
            if !rejections.isEmpty {
                try await Outbox.enqueue(try rejections.map { try Self.rejectionEvent($0, at: now) }, in: connection)
            }
            return outcomes
        }
    }

    private func store(_ raw: RawIncident, normalizer: IncidentNormalizer, now: Date, connection: PostgresConnection) async throws -> IntakeOutcome {
        let id = IncidentIdentity.id(source: raw.source, externalId: raw.externalId)
        let contentHash = try Self.contentHash(raw)
        let existing = try await connection.query("""
            SELECT revision, content_hash, source_updated_at FROM incidents WHERE id = \(id) FOR UPDATE
            """).first
        var revision = 1
        if let existing {
            let storedRevision = try existing.decode(0, as: Int.self)
            let storedHash = try existing.decode(1, as: String.self)
            let storedUpdatedAt = try existing.decode(2, as: Date?.self)
            if storedHash == contentHash {
                return IntakeOutcome(externalId: raw.externalId, id: id, revision: storedRevision, status: .unchanged)
            }
            if let storedUpdatedAt, let updatedAt = raw.updatedAt, updatedAt < storedUpdatedAt {
                try await connection.execute("UPDATE incidents SET stale_updates = stale_updates + 1 WHERE id = \(id)")
                Counter(label: "coalition_ingestion_stale_total", dimensions: [("source", raw.source)]).increment()
                return IntakeOutcome(externalId: raw.externalId, id: id, revision: storedRevision, status: .unchanged, stale: true)
            }
            revision = storedRevision + 1
        }
        let normalized = normalizer.normalize(raw, revision: revision, ingestedAt: now)
        let incident = normalized.incident
        let document = String(decoding: try CoalitionJSON.encoder.encode(incident), as: UTF8.self)
        try await connection.execute("""
            INSERT INTO incidents (id, source_id, external_id, revision, content_hash, source_updated_at, category, area_id,
                                   occurred_at, closed_at, document)
            VALUES (\(id), \(raw.source), \(raw.externalId), \(revision), \(contentHash), \(raw.updatedAt), \(incident.category.rawValue),
                    \(incident.areaId), \(incident.occurredAt), \(incident.closedAt), \(document)::jsonb)
            ON CONFLICT (id) DO UPDATE SET
                revision = EXCLUDED.revision, content_hash = EXCLUDED.content_hash,
                source_updated_at = EXCLUDED.source_updated_at, category = EXCLUDED.category, area_id = EXCLUDED.area_id,
                occurred_at = EXCLUDED.occurred_at, closed_at = EXCLUDED.closed_at, document = EXCLUDED.document, updated_at = now()
            """)
        try await connection.execute("""
            INSERT INTO incident_revisions (incident_id, revision, document) VALUES (\(id), \(revision), \(document)::jsonb)
            """)
        if normalized.unmapped {
            try await connection.execute("""
                INSERT INTO unmapped_labels (source_id, label, occurrences) VALUES (\(raw.source), \(raw.category), 1)
                ON CONFLICT (source_id, label) DO UPDATE SET occurrences = unmapped_labels.occurrences + 1, last_seen = now()
                """)
        }
        let event = CloudEvent(
            id: "\(id.uuidString.lowercased())#\(revision)", source: Self.eventSource, type: EventType.incident, time: now,
            subject: id.uuidString.lowercased(), data: Array(document.utf8))
        try await Outbox.enqueue([OutboxEvent(topic: .incidentsNormalized, key: id.uuidString.lowercased(), event: event)], in: connection)
        return IntakeOutcome(externalId: raw.externalId, id: id, revision: revision, status: revision == 1 ? .accepted : .updated)
    }

    /// One normalizer per source of the batch, with that source's category mappings and area
    /// hints, read in the batch's own transaction so a mapping change applies from the next batch.
    private func makeNormalizers(sources: Set<String>, connection: PostgresConnection) async throws -> [String: IncidentNormalizer] {
        let sourceIDs = Array(sources)
        var categories: [String: [String: IncidentCategory]] = [:]
        for row in try await connection.query("SELECT source_id, label, category FROM category_mappings WHERE source_id = ANY(\(sourceIDs))") {
            let (source, label, code) = try row.decode((String, String, String).self)
            if let category = IncidentCategory(rawValue: code) { categories[source, default: [:]][label] = category }
        }
        var hints: [String: [String: String]] = [:]
        for row in try await connection.query("SELECT source_id, hint, area_id FROM area_hints WHERE source_id = ANY(\(sourceIDs))") {
            let (source, hint, area) = try row.decode((String, String, String).self)
            hints[source, default: [:]][hint] = area
        }
        let areaIndex = try await areas.index(using: connection)
        var normalizers: [String: IncidentNormalizer] = [:]
        for source in sources {
            let categoryTable = categories[source] ?? [:]
            let hintTable = hints[source] ?? [:]
            // SPEC §4.2: the polygon containing the point, else the source's area-hint mapping.
            normalizers[source] = IncidentNormalizer(
                lookupCategory: { _, label in categoryTable[label] },
                resolveArea: { coordinate, hint in
                    coordinate.flatMap { areaIndex.areaID(containingLatitude: $0.lat, longitude: $0.lon) }
                        ?? hint.flatMap { hintTable[$0] }
                })
        }
        return normalizers
    }

    /// Identifies submitted content: the raw incident in the canonical JSON dialect (sorted keys).
    static func contentHash(_ raw: RawIncident) throws -> String {
        let bytes = try CoalitionJSON.encoder.encode(raw)
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func rejectionEvent(_ rejected: RejectedSubmission, at time: Date) throws -> OutboxEvent {
        struct Payload: Encodable {
            var source: String?
            var externalId: String?
            var channel: String
            var originalBase64: String
            var reasons: [ProblemDetails.FieldError]
            var rejectedAt: Date
        }
        let payload = Payload(
            source: rejected.source, externalId: rejected.externalId, channel: rejected.channel,
            originalBase64: Data(rejected.original).base64EncodedString(), reasons: rejected.errors, rejectedAt: time)
        let event = try CloudEvent(
            id: UUID().uuidString.lowercased(), source: eventSource, type: EventType.incidentRejected, time: time,
            subject: rejected.externalId, payload: payload)
        let key = [rejected.source, rejected.externalId].compactMap { $0 }.joined(separator: "/")
        return OutboxEvent(topic: .incidentsRejected, key: key.isEmpty ? nil : key, event: event)
    }
}
