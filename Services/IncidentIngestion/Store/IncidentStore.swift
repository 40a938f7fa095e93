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
    ///
    /// One transaction per batch and a fixed number of set-based statements, whatever the
    /// batch size: lock the current rows, decide in memory, then write incidents, revisions,
    /// outbox events and unmapped-label counts with one statement each.
    public func ingest(_ incidents: [RawIncident], rejected: [RejectedSubmission] = [], channel: String = "http") async throws -> [IntakeOutcome] {
        try await postgres.withTransaction { connection in
            let now = clock()
            let sources = Array(Set(incidents.map(\.source)))
            let registered = Set(try await connection.query("SELECT id FROM sources WHERE id = ANY(\(sources))").map { try $0.decode(0, as: String.self) })
            let normalizers = try await makeNormalizers(sources: registered, connection: connection)
            let ids = incidents.map { IncidentIdentity.id(source: $0.source, externalId: $0.externalId) }

            var current: [UUID: Stored] = [:]
            for row in try await connection.query("""
                SELECT id, revision, content_hash, source_updated_at FROM incidents WHERE id = ANY(\(Array(Set(ids)))) ORDER BY id FOR UPDATE
                """) {
                current[try row.decode(0, as: UUID.self)] = Stored(
                    revision: try row.decode(1, as: Int.self), contentHash: try row.decode(2, as: String.self),
                    updatedAt: try row.decode(3, as: Date?.self))
            }

            var plan = WritePlan()
            var outcomes: [IntakeOutcome] = []
            outcomes.reserveCapacity(incidents.count)
            var rejections = rejected
            for (raw, id) in zip(incidents, ids) {
                guard let normalizer = normalizers[raw.source] else {
                    let error = ProblemDetails.FieldError(field: "source", code: "unknown_source", message: "no source \(raw.source) is registered")
                    rejections.append(RejectedSubmission(
                        source: raw.source, externalId: raw.externalId, original: Array(try CoalitionJSON.encoder.encode(raw)),
                        errors: [error], channel: channel))
                    outcomes.append(IntakeOutcome(externalId: raw.externalId, id: nil, revision: nil, status: .rejected, errors: [error]))
                    continue
                }
                let contentHash = try Self.contentHash(raw)
                let stored = current[id]
                if let stored, stored.contentHash == contentHash {
                    outcomes.append(IntakeOutcome(externalId: raw.externalId, id: id, revision: stored.revision, status: .unchanged))
                    continue
                }
                if let stored, let storedUpdatedAt = stored.updatedAt, let updatedAt = raw.updatedAt, updatedAt < storedUpdatedAt {
                    plan.stale.append(id)
                    Counter(label: "coalition_ingestion_stale_total", dimensions: [("source", raw.source)]).increment()
                    outcomes.append(IntakeOutcome(externalId: raw.externalId, id: id, revision: stored.revision, status: .unchanged, stale: true))
                    continue
                }
                let revision = (stored?.revision ?? 0) + 1
                let normalized = normalizer.normalize(raw, revision: revision, ingestedAt: now)
                let document = String(decoding: try CoalitionJSON.encoder.encode(normalized.incident), as: UTF8.self)
                plan.add(id: id, raw: raw, incident: normalized.incident, document: document, contentHash: contentHash, at: now)
                if normalized.unmapped { plan.unmapped[UnmappedKey(source: raw.source, label: raw.category), default: 0] += 1 }
                current[id] = Stored(revision: revision, contentHash: contentHash, updatedAt: raw.updatedAt ?? stored?.updatedAt)
                outcomes.append(IntakeOutcome(externalId: raw.externalId, id: id, revision: revision, status: revision == 1 ? .accepted : .updated))
            }
            try await plan.write(to: connection)
            if !rejections.isEmpty {
                try await Self.keep(rejections, in: connection)
                try await Outbox.enqueue(try rejections.map { try Self.rejectionEvent($0, at: now) }, in: connection)
            }
            return outcomes
        }
    }

    struct Stored {
        var revision: Int
        var contentHash: String
        var updatedAt: Date?
    }

    struct UnmappedKey: Hashable {
        var source: String
        var label: String
    }

    /// The rows one batch writes, as columns for `unnest`.
    struct WritePlan {
        /// Position of each incident's latest revision (a batch may carry one incident twice).
        var latest: [UUID: Int] = [:]
        var ids: [UUID] = []
        var sources: [String] = []
        var externalIds: [String] = []
        var revisions: [Int] = []
        var hashes: [String] = []
        var updatedAts: [String?] = []
        var categories: [String] = []
        var areas: [String] = []
        var occurredAts: [String] = []
        var closedAts: [String?] = []
        var documents: [String] = []
        var events: [OutboxEvent] = []
        var stale: [UUID] = []
        var unmapped: [UnmappedKey: Int] = [:]

        mutating func add(id: UUID, raw: RawIncident, incident: CanonicalIncident, document: String, contentHash: String, at now: Date) {
            latest[id] = ids.count
            ids.append(id)
            sources.append(raw.source)
            externalIds.append(raw.externalId)
            revisions.append(incident.revision)
            hashes.append(contentHash)
            updatedAts.append(raw.updatedAt.map(RFC3339.string(from:)))
            categories.append(incident.category.rawValue)
            areas.append(incident.areaId)
            occurredAts.append(RFC3339.string(from: incident.occurredAt))
            closedAts.append(incident.closedAt.map(RFC3339.string(from:)))
            documents.append(document)
            let key = id.uuidString.lowercased()
            events.append(OutboxEvent(
                topic: .incidentsNormalized, key: key,
                event: CloudEvent(
                    id: "\(key)#\(incident.revision)", source: IncidentStore.eventSource, type: EventType.incident, time: now,
                    subject: key, data: Array(document.utf8))))
        }

        func write(to connection: PostgresConnection) async throws {
            if !ids.isEmpty {
                // The incidents table gets each incident's latest revision of the batch only:
                // one statement may not update the same row twice.
                let last = latest.values.sorted()
                func pick<T>(_ column: [T]) -> [T] { last.map { column[$0] } }
                try await connection.execute("""
                    INSERT INTO incidents (id, source_id, external_id, revision, content_hash, source_updated_at, category, area_id,
                                           occurred_at, closed_at, document)
                    SELECT * FROM unnest(\(pick(ids))::uuid[], \(pick(sources))::text[], \(pick(externalIds))::text[], \(pick(revisions))::int[],
                                         \(pick(hashes))::text[], \(pick(updatedAts))::timestamptz[], \(pick(categories))::text[], \(pick(areas))::text[],
                                         \(pick(occurredAts))::timestamptz[], \(pick(closedAts))::timestamptz[], \(pick(documents))::jsonb[])
                    ON CONFLICT (id) DO UPDATE SET
                        revision = EXCLUDED.revision, content_hash = EXCLUDED.content_hash,
                        source_updated_at = EXCLUDED.source_updated_at, category = EXCLUDED.category, area_id = EXCLUDED.area_id,
                        occurred_at = EXCLUDED.occurred_at, closed_at = EXCLUDED.closed_at, document = EXCLUDED.document, updated_at = now()
                    """)
                try await connection.execute("""
                    INSERT INTO incident_revisions (incident_id, revision, document)
                    SELECT * FROM unnest(\(ids)::uuid[], \(revisions)::int[], \(documents)::jsonb[])
                    """)
                try await Outbox.enqueue(events, in: connection)
            }
            if !stale.isEmpty {
                try await connection.execute("UPDATE incidents SET stale_updates = stale_updates + 1 WHERE id = ANY(\(stale))")
            }
            if !unmapped.isEmpty {
                let keys = Array(unmapped.keys)
                try await connection.execute("""
                    INSERT INTO unmapped_labels (source_id, label, occurrences)
                    SELECT * FROM unnest(\(keys.map(\.source))::text[], \(keys.map(\.label))::text[], \(keys.map { unmapped[$0]! })::bigint[])
                    ON CONFLICT (source_id, label) DO UPDATE SET occurrences = unmapped_labels.occurrences + EXCLUDED.occurrences, last_seen = now()
                    """)
            }
        }
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
        return Outbox.hex(Array(SHA256.hash(data: bytes)))
    }

    /// Rejections are also rows, so operators can count them by source and reason.
    static func keep(_ rejections: [RejectedSubmission], in connection: PostgresConnection) async throws {
        let reasons = try rejections.map { String(decoding: try CoalitionJSON.encoder.encode($0.errors), as: UTF8.self) }
        try await connection.execute("""
            INSERT INTO rejected_incidents (channel, source_id, external_id, reasons, original, original_topic, original_partition, original_offset)
            SELECT u.channel, u.source_id, u.external_id, u.reasons::jsonb, decode(u.original, 'hex'), u.topic, u.partition, u.position
            FROM unnest(\(rejections.map(\.channel))::text[], \(rejections.map(\.source))::text[], \(rejections.map(\.externalId))::text[],
                        \(reasons)::text[], \(rejections.map { Outbox.hex($0.original) })::text[], \(rejections.map { $0.origin?.topic })::text[],
                        \(rejections.map { $0.origin.map { Int($0.partition) } })::int[], \(rejections.map { $0.origin.map { Int($0.offset) } })::bigint[])
                 AS u(channel, source_id, external_id, reasons, original, topic, partition, position)
            """)
    }

    static func rejectionEvent(_ rejected: RejectedSubmission, at time: Date) throws -> OutboxEvent {
        struct Payload: Encodable {
            var source: String?
            var externalId: String?
            var channel: String
            var originalBase64: String
            var reasons: [ProblemDetails.FieldError]
            var rejectedAt: Date
            var originalTopic: String?
            var originalPartition: Int32?
            var originalOffset: Int64?
        }
        let payload = Payload(
            source: rejected.source, externalId: rejected.externalId, channel: rejected.channel,
            originalBase64: Data(rejected.original).base64EncodedString(), reasons: rejected.errors, rejectedAt: time,
            originalTopic: rejected.origin?.topic, originalPartition: rejected.origin?.partition, originalOffset: rejected.origin?.offset)
        var event = try CloudEvent(
            id: UUID().uuidString.lowercased(), source: eventSource, type: EventType.incidentRejected, time: time,
            subject: rejected.externalId, payload: payload)
        if let origin = rejected.origin {
            // Also as headers (CloudEvents extensions `ce_original*`), readable without parsing the value.
            event.extensions = [
                "originaltopic": origin.topic, "originalpartition": String(origin.partition), "originaloffset": String(origin.offset),
            ]
        }
        let key = [rejected.source, rejected.externalId].compactMap { $0 }.joined(separator: "/")
        return OutboxEvent(topic: .incidentsRejected, key: key.isEmpty ? nil : key, event: event)
    }
}
