import Foundation
import Kafka
import Postgres
import Testing
import TestSupport

@testable import ServiceKit

/// The relay's reader of `headers::text` against `JSONSerialization`, on the text PostgreSQL
/// itself writes for jsonb objects.
@Suite("Outbox headers")
struct OutboxHeadersTests {
    static let values = [
        "", "1.0", "a#1", "/coalition/incident-ingestion", "application/json", "2025-03-14T05:20:00.250Z",
        "quote\" backslash\\ slash/", "tab\t newline\n return\r bell\u{7} escape\u{1B} \u{1F}", "é ß 中文 😀 👩‍👩‍👧", "\u{2028}\u{FEFF}\u{7F}",
    ]

    @Test("PostgreSQL's text of jsonb header objects reads as JSONSerialization reads it, sorted by name")
    func sameAsJSONSerialization() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            var random = SeededRandom(seed: 0x0B0C_0001)
            for _ in 0..<200 {
                var object: [String: String] = [:]
                for _ in 0..<Int.random(in: 0...8, using: &random) {
                    let name = ["ce_id", "ce_type", "content-type", "ce_\(Int.random(in: 0...99, using: &random))", Self.values.randomElement(using: &random)!].randomElement(using: &random)!
                    object[name] = Self.values.randomElement(using: &random)! + Self.values.randomElement(using: &random)!
                }
                let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
                let text = try #require(try await postgres.query("SELECT \(json)::jsonb::text").first).decode(0, as: String.self)
                let parsed = try #require(OutboxHeaders.parse(text), "\(text)")
                let expected = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
                #expect(parsed == expected.sorted { $0.key < $1.key }.map { KafkaHeader(key: $0.key, string: $0.value) }, "\(text)")
            }
        }
    }

    @Test("anything but a flat object of strings in PostgreSQL's spacing is left to JSONSerialization")
    func othersLeftToFoundation() {
        for text in [#"{"a": 1}"#, #"{"a":"b"}"#, #"{"a": "b",}"#, #"["a"]"#, #"{"a": "b"} "#, #"{"a": {"b": "c"}}"#, #"{"a": "\ud800"}"#, #"{"a": "b"#, ""] {
            #expect(OutboxHeaders.parse(text) == nil, "\(text)")
        }
        #expect(OutboxHeaders.parse("{}") == [])
        #expect(OutboxHeaders.parse(#"{"b": "2", "a": "\u00e9\ud83d\ude00\n"}"#) == [KafkaHeader(key: "a", string: "é😀\n"), KafkaHeader(key: "b", string: "2")])
    }
}
