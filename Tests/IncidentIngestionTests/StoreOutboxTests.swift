import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport

@testable import IncidentIngestion

/// The store's one statement for incidents, revisions and outbox rows writes what the
/// generic outbox would have: the same key, headers and payload per revision, in batch order.
@Suite("Incident store: outbox rows")
struct StoreOutboxTests {
    @Test("each revision's outbox row has the event's key, CloudEvent headers and document, in batch order; a repeat in one batch makes two revisions")
    func outboxRows() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            _ = try await SourceRegistry(postgres: postgres).add(id: "watch", name: "Watch", timezone: "UTC")
            let at = RFC3339.date(from: "2025-03-14T05:20:00.250Z")!
            let store = IncidentStore(postgres: postgres, logger: TestEnvironment.logger, clock: { at })
            func raw(_ id: String, status: String) -> RawIncident {
                RawIncident(
                    source: "watch", externalId: id, category: "noise", description: "tab\there \"quoted\" \\ é😀\nline",
                    occurredAt: at, status: status, location: IncidentLocation(lat: 40.7, lon: -73.9), attributes: ["Agency": "x", "b": "y"])
            }
            let outcomes = try await store.ingest([raw("a", status: "open"), raw("b", status: "open"), raw("a", status: "closed")])
            #expect(outcomes.map(\.status) == [.accepted, .accepted, .updated])
            #expect(outcomes.map(\.revision) == [1, 1, 2])

            let rows = try await postgres.query("""
                SELECT topic, message_key, headers::text, payload FROM outbox ORDER BY id
                """)
            #expect(rows.count == 3)
            let revisions = try await postgres.query("SELECT incident_id, revision, document::text FROM incident_revisions ORDER BY incident_id, revision")
            #expect(revisions.count == 3)
            for (row, outcome) in zip(rows, outcomes) {
                let (topic, key, headersText, payload) = try row.decode((String, [UInt8]?, String, [UInt8]).self)
                let id = try #require(outcome.id)
                #expect(topic == "incidents.normalized")
                #expect(key == Array(id.utf8))
                let incident = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(payload))
                #expect(incident.revision == outcome.revision)
                #expect(incident.id.uuidString.lowercased() == id)
                // The payload is the canonical encoding of the incident it carries.
                #expect(payload == Array(try CoalitionJSON.encoder.encode(incident)))
                let expected = IncidentStore.normalizedEvent(key: id, revision: incident.revision, document: payload, at: at)
                let headers = try #require(try JSONSerialization.jsonObject(with: Data(headersText.utf8)) as? [String: String])
                #expect(headers == Dictionary(uniqueKeysWithValues: expected.event.kafkaHeaders.map { ($0.key, $0.stringValue ?? "") }))
            }
            // The current row holds the latest revision; the history holds both.
            let current = try await postgres.query("SELECT external_id, revision, document ->> 'status' FROM incidents ORDER BY external_id")
            #expect(try current.map { try $0.decode((String, Int, String).self) }.map { "\($0.0)#\($0.1) \($0.2)" } == ["a#2 closed", "b#1 open"])

            // The same batch again changes nothing and writes no event.
            let again = try await store.ingest([raw("b", status: "open"), raw("a", status: "closed")])
            #expect(again.map(\.status) == [.unchanged, .unchanged])
            #expect(try await postgres.query("SELECT count(*) FROM outbox").first?.decode(0, as: Int.self) == 3)
        }
    }

    @Test("deleting an incident still deletes its revisions (migration 0013's trigger in place of the foreign key's cascade)")
    func deletionCascades() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            _ = try await SourceRegistry(postgres: postgres).add(id: "watch", name: "Watch", timezone: "UTC")
            let store = IncidentStore(postgres: postgres, logger: TestEnvironment.logger)
            let at = Date(timeIntervalSince1970: 1_741_929_600)
            _ = try await store.ingest([
                RawIncident(source: "watch", externalId: "a", category: "noise", occurredAt: at, areaHint: "x"),
                RawIncident(source: "watch", externalId: "a", category: "noise", occurredAt: at, status: "closed", areaHint: "x"),
                RawIncident(source: "watch", externalId: "b", category: "noise", occurredAt: at, areaHint: "x"),
            ])
            #expect(try await postgres.query("SELECT count(*) FROM incident_revisions").first?.decode(0, as: Int.self) == 3)
            try await postgres.execute("DELETE FROM incidents WHERE external_id = 'a'")
            let left = try await postgres.query("SELECT i.external_id FROM incident_revisions r JOIN incidents i ON i.id = r.incident_id")
            #expect(try left.map { try $0.decode(0, as: String.self) } == ["b"])
            #expect(try await postgres.query("SELECT count(*) FROM incident_revisions").first?.decode(0, as: Int.self) == 1)
        }
    }
}
