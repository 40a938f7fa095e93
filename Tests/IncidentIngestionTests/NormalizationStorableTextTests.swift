import Testing
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
