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
        try await ingest(prepared: incidents.map(PreparedIncident.init), rejected: rejected, channel: channel)
    }

    /// `ingest(_:rejected:channel:)` for incidents whose id and content hash are computed
    /// already (outside the transaction).
    ///
    /// One transaction per batch and a fixed number of set-based statements, whatever the
    /// batch size: lock the current rows, decide in memory, then write incidents, revisions and
    /// outbox events with one statement, and stale and unmapped-label counts with one each.
    public func ingest(prepared incidents: [PreparedIncident], rejected: [RejectedSubmission] = [], channel: String = "http") async throws -> [IntakeOutcome] {
        try await postgres.withTransaction { connection in
            let now = clock()
            let sources = Array(Set(incidents.map(\.raw.source)))
            let registered = Set(try await connection.query("SELECT id FROM sources WHERE id = ANY(\(sources))").map { try $0.decode(0, as: String.self) })
            let normalizers = try await makeNormalizers(sources: registered, connection: connection)

            var current: [UUID: Stored] = [:]
            current.reserveCapacity(incidents.count)
            for row in try await connection.query("""
                SELECT id, revision, content_hash, source_updated_at FROM incidents WHERE id = ANY(\(Array(Set(incidents.map(\.id))).map(\.lowercaseText))::uuid[]) ORDER BY id FOR UPDATE
                """) {
                current[try row.decode(0, as: UUID.self)] = Stored(
                    revision: try row.decode(1, as: Int.self), contentHash: try row.decode(2, as: String.self),
                    updatedAt: try row.decode(3, as: Date?.self))
            }

            var plan = WritePlan(capacity: incidents.count)
            var outcomes: [IntakeOutcome] = []
            outcomes.reserveCapacity(incidents.count)
            var rejections = rejected
            for incident in incidents {
                let raw = incident.raw
                let id = incident.id
                guard let normalizer = normalizers[raw.source] else {
                    let error = ProblemDetails.FieldError(field: "source", code: "unknown_source", message: "no source \(raw.source) is registered")
                    rejections.append(RejectedSubmission(
                        source: raw.source, externalId: raw.externalId, original: Array(try CoalitionJSON.encoder.encode(raw)),
                        errors: [error], channel: channel))
                    outcomes.append(IntakeOutcome(externalId: raw.externalId, id: nil, revision: nil, status: .rejected, errors: [error]))
                    continue
                }
                let stored = current[id]
                if let stored, stored.contentHash == incident.contentHash {
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
                let normalized = normalizer.normalize(raw, id: id, revision: revision, ingestedAt: now)
                plan.add(id: id, raw: raw, incident: normalized.incident, contentHash: incident.contentHash)
                if normalized.unmapped { plan.unmapped[UnmappedKey(source: raw.source, label: raw.category), default: 0] += 1 }
                current[id] = Stored(revision: revision, contentHash: incident.contentHash, updatedAt: raw.updatedAt ?? stored?.updatedAt)
                outcomes.append(IntakeOutcome(externalId: raw.externalId, id: id, revision: revision, status: revision == 1 ? .accepted : .updated))
            }
            try await plan.write(to: connection, at: now)
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

    /// The rows one batch writes, as columns for `unnest`, and the documents as one text.
    struct WritePlan {
        /// Position of each incident's latest revision (a batch may carry one incident twice).
        var latest: [UUID: Int] = [:]
        /// Ids as text: binding `[UUID]` would format each through Foundation.
        var ids: [String] = []
        var sources: [String] = []
        var externalIds: [String] = []
        var revisions: [Int] = []
        var hashes: [String] = []
        var updatedAts: [String?] = []
        var categories: [String] = []
        var areas: [String] = []
        var occurredAts: [String] = []
        var closedAts: [String?] = []
        /// The canonical documents, one per line: JSON text never holds a raw line feed, and
        /// the server splits one parameter (`string_to_table`) instead of unescaping an array
        /// literal of whole documents.
        var documents: [UInt8] = []
        var stale: [UUID] = []
        var unmapped: [UnmappedKey: Int] = [:]

        init(capacity: Int) {
            latest.reserveCapacity(capacity)
            ids.reserveCapacity(capacity)
            documents.reserveCapacity(capacity * 800)
        }

        mutating func add(id: UUID, raw: RawIncident, incident: CanonicalIncident, contentHash: String) {
            latest[id] = ids.count
            ids.append(id.lowercaseText)
            sources.append(raw.source)
            externalIds.append(raw.externalId)
            revisions.append(incident.revision)
            hashes.append(contentHash)
            updatedAts.append(raw.updatedAt.map(RFC3339Timestamp.string(from:)))
            categories.append(incident.category.rawValue)
            areas.append(incident.areaId)
            occurredAts.append(RFC3339Timestamp.string(from: incident.occurredAt))
            closedAts.append(incident.closedAt.map(RFC3339Timestamp.string(from:)))
            if !documents.isEmpty { documents.append(UInt8(ascii: "\n")) }
            documents.append(contentsOf: incident.canonicalJSON)
        }

        /// One statement for the three tables: the documents are parsed as jsonb once for both
        /// the current row and the revision history, and the outbox rows (in batch order, which
        /// the relay keeps) reuse the same text as their payload. The incidents table gets each
        /// incident's latest revision of the batch only: one statement may not update a row twice.
        func write(to connection: PostgresConnection, at now: Date) async throws {
            if !ids.isEmpty {
                var isLatest = [Bool](repeating: false, count: ids.count)
                for position in latest.values { isLatest[position] = true }
                let headers = try Self.headerTemplate(at: now)
                try await connection.execute("""
                    WITH batch AS MATERIALIZED (
                        SELECT b.*, b.document::jsonb AS body
                        FROM ROWS FROM (
                            unnest(\(ids)::uuid[]), unnest(\(sources)::text[]), unnest(\(externalIds)::text[]), unnest(\(revisions)::int[]),
                            unnest(\(hashes)::text[]), unnest(\(updatedAts)::timestamptz[]), unnest(\(categories)::text[]), unnest(\(areas)::text[]),
                            unnest(\(occurredAts)::timestamptz[]), unnest(\(closedAts)::timestamptz[]), unnest(\(isLatest)::bool[]),
                            string_to_table(\(String(decoding: documents, as: UTF8.self))::text, E'\\n')
                        ) WITH ORDINALITY AS b(id, source_id, external_id, revision, content_hash, source_updated_at, category, area_id,
                                               occurred_at, closed_at, latest, document, position)
                    ),
                    current_rows AS (
                        INSERT INTO incidents (id, source_id, external_id, revision, content_hash, source_updated_at, category, area_id,
                                               occurred_at, closed_at, document)
                        SELECT id, source_id, external_id, revision, content_hash, source_updated_at, category, area_id, occurred_at, closed_at, body
                        FROM batch WHERE latest
                        ON CONFLICT (id) DO UPDATE SET
                            revision = EXCLUDED.revision, content_hash = EXCLUDED.content_hash,
                            source_updated_at = EXCLUDED.source_updated_at, category = EXCLUDED.category, area_id = EXCLUDED.area_id,
                            occurred_at = EXCLUDED.occurred_at, closed_at = EXCLUDED.closed_at, document = EXCLUDED.document, updated_at = now()
                    ),
                    history AS (
                        INSERT INTO incident_revisions (incident_id, revision, document) SELECT id, revision, body FROM batch
                    )
                    INSERT INTO outbox (topic, message_key, headers, payload)
                    SELECT \(Topic.incidentsNormalized.rawValue), convert_to(id::text, 'UTF8'),
                           \(headers)::jsonb || jsonb_build_object('ce_id', id::text || '#' || revision, 'ce_subject', id::text),
                           convert_to(document, 'UTF8')
                    FROM batch ORDER BY position
                    """)
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

        /// The Kafka headers of the batch's events as the outbox stores them, from
        /// `CloudEvent.kafkaHeaders` (their one definition): the statement replaces the two that
        /// differ from event to event, `ce_id` (id#revision) and `ce_subject` (id). Two events
        /// are compared so that a header added there one day cannot be written wrong here.
        static func headerTemplate(at now: Date) throws -> String {
            let one = IncidentStore.normalizedEvent(key: "00000000-0000-5000-8000-000000000001", revision: 1, document: [], at: now).event.kafkaHeaders
            let two = IncidentStore.normalizedEvent(key: "00000000-0000-5000-8000-000000000002", revision: 2, document: [], at: now).event.kafkaHeaders
            let varying = Set(zip(one, two).filter { $0 != $1 }.map(\.0.key))
            guard one.map(\.key) == two.map(\.key), varying == ["ce_id", "ce_subject"],
                  one.first(where: { $0.key == "ce_id" })?.stringValue == "00000000-0000-5000-8000-000000000001#1" else {
                throw PostgresError(code: .encoding, message: "incident events carry per-event headers the outbox statement does not write")
            }
            var writer = CanonicalJSONWriter()
            writer.beginObject()
            for header in one {
                writer.name(header.key)
                writer.string(header.stringValue ?? "")
            }
            writer.endObject()
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }

    /// The `coalition.incident.v1` event of one revision (key = incident id, `ce_id` = id#revision).
    static func normalizedEvent(key: String, revision: Int, document: [UInt8], at now: Date) -> OutboxEvent {
        OutboxEvent(
            topic: .incidentsNormalized, key: key,
            event: CloudEvent(
                id: "\(key)#\(revision)", source: eventSource, type: EventType.incident, time: now, subject: key, data: document))
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
