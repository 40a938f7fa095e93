import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

@Suite("Validator: text PostgreSQL can store")
struct NormalizationStorableTextTests {
    @Test("a NUL character in any text field is refused as invalid_characters", arguments: [
        #"{"source":"s","external_id":"a\u0000b","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x"}"#,
        #"{"source":"s","external_id":"a","category":"noise\u0000","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x"}"#,
        #"{"source":"s","external_id":"a","category":"noise","description":"\u0000","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x"}"#,
        #"{"source":"s","external_id":"a","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x","attributes":{"k":"v\u0000"}}"#,
    ])
    func nulRefused(json: String) throws {
        guard case .failure(let failure) = IncidentValidator.validate(json: Array(json.utf8)) else {
            Issue.record("accepted a NUL character")
            return
        }
        #expect(failure.errors.contains { $0.code == "invalid_characters" })
    }
}

@Suite("Rejections with NUL characters are kept")
struct RejectionStorageTests {
    @Test("a refused incident whose id and source carry NUL is kept (labels with U+FFFD, original bytes exact) and published")
    func nulInRejection() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let original = Array(#"{"source":"w\u0000","external_id":"a\u0000b"}"#.utf8)
            let rejected = RejectedSubmission(
                source: "w\u{0}", externalId: "a\u{0}b", original: original,
                errors: [.init(field: "external_id", code: "invalid_characters", message: "external_id a\u{0}b contains NUL")], channel: "http")
            _ = try await IncidentStore(postgres: postgres, logger: TestEnvironment.logger).ingest([], rejected: [rejected])
            let row = try #require(try await postgres.query("SELECT source_id, external_id, original, reasons::text FROM rejected_incidents").first)
            #expect(try row.decode(0, as: String?.self) == "w\u{FFFD}")
            #expect(try row.decode(1, as: String?.self) == "a\u{FFFD}b")
            #expect(try row.decode(2, as: [UInt8].self) == original)
            #expect(try await postgres.query("SELECT count(*) FROM outbox WHERE topic = 'incidents.rejected'").first?.decode(0, as: Int.self) == 1)
        }
    }
}
