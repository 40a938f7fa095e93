import Contracts
import Foundation
import Testing

@testable import IncidentIngestion

@Suite("Incident validation")
struct NormalizationValidatorTests {
    /// SPEC §4.1, verbatim.
    static let specExample = """
        {
          "source": "nyc-311",
          "external_id": "64345465",
          "category": "Animal-Abuse",
          "description": "Neglected",
          "occurred_at": "2025-03-14T01:20:00-04:00",
          "reported_at": "2025-03-14T01:20:00-04:00",
          "closed_at": null,
          "status": "open",
          "location": {"lat": 40.65651334, "lon": -73.88182509, "address": "285 COZINE AVENUE"},
          "area_hint": "05 BROOKLYN",
          "severity": null,
          "attributes": {"agency": "NYPD", "descriptor": "Neglected"}
        }
        """

    /// The smallest valid incident, as an object to modify.
    static var minimal: [String: Any] {
        [
            "source": "nyc-311", "external_id": "1", "category": "Noise",
            "occurred_at": "2025-03-14T01:20:00Z", "location": ["lat": 40.7, "lon": -73.9],
        ]
    }

    static func errors(_ object: [String: Any]) -> [String] {
        switch IncidentValidator.validate(object) {
        case .success: []
        case .failure(let failure): failure.errors.map { "\($0.field) \($0.code)" }
        }
    }

    static func errors(changing key: String, to value: Any?) -> [String] {
        var object = minimal
        object[key] = value
        return errors(object)
    }

    @Test("the specification's example is accepted as sent")
    func specExampleAccepted() throws {
        let raw = try IncidentValidator.validate(json: Array(Self.specExample.utf8)).get()
        #expect(raw.source == "nyc-311")
        #expect(raw.externalId == "64345465")
        #expect(raw.category == "Animal-Abuse")
        #expect(raw.description == "Neglected")
        #expect(raw.occurredAt == RFC3339.date(from: "2025-03-14T05:20:00Z"))
        #expect(raw.reportedAt == raw.occurredAt)
        #expect(raw.closedAt == nil)
        #expect(raw.updatedAt == nil)
        #expect(raw.status == "open")
        #expect(raw.location == IncidentLocation(lat: 40.65651334, lon: -73.88182509, address: "285 COZINE AVENUE"))
        #expect(raw.areaHint == "05 BROOKLYN")
        #expect(raw.severity == nil)
        #expect(raw.attributes == ["agency": "NYPD", "descriptor": "Neglected"])
        // The contract decoder reads the same document to the same value.
        #expect(try CoalitionJSON.decoder.decode(RawIncident.self, from: Data(Self.specExample.utf8)) == raw)
    }

    @Test("a minimal incident is accepted; unknown fields are ignored")
    func minimalAccepted() throws {
        var object = Self.minimal
        object["unknown_field"] = ["anything": [1, 2]]
        object["location"] = ["lat": 40.7, "lon": -73.9, "accuracy_m": 12]
        #expect(Self.errors(object) == [])
        let raw = try IncidentValidator.validate(object).get()
        #expect(raw.location == IncidentLocation(lat: 40.7, lon: -73.9))
        #expect(raw.attributes == nil)
    }

    @Test("an area hint alone places an incident")
    func areaHintOnly() throws {
        var object = Self.minimal
        object["location"] = nil
        object["area_hint"] = "05 BROOKLYN"
        let raw = try IncidentValidator.validate(object).get()
        #expect(raw.location == nil)
        #expect(raw.areaHint == "05 BROOKLYN")

        object["location"] = ["address": "285 COZINE AVENUE"]
        #expect(try IncidentValidator.validate(object).get().location == IncidentLocation(address: "285 COZINE AVENUE"))
    }

    @Test(
        "required fields",
        arguments: [
            ("source", "source required"), ("external_id", "external_id required"),
            ("category", "category required"), ("occurred_at", "occurred_at required"),
        ])
    func requiredFields(key: String, expected: String) {
        #expect(Self.errors(changing: key, to: nil) == [expected])
        #expect(Self.errors(changing: key, to: NSNull()) == [expected])
    }

    @Test(
        "identifiers are non-blank strings of at most 256 characters",
        arguments: ["source", "external_id", "category"])
    func identifiers(key: String) {
        #expect(Self.errors(changing: key, to: "") == ["\(key) empty"])
        #expect(Self.errors(changing: key, to: "  \t") == ["\(key) empty"])
        #expect(Self.errors(changing: key, to: 64345465) == ["\(key) wrong_type"])
        #expect(Self.errors(changing: key, to: String(repeating: "é", count: 257)) == ["\(key) too_long"])
        #expect(Self.errors(changing: key, to: String(repeating: "é", count: 256)) == [])
    }

    @Test("a source may not contain control characters")
    func sourceControlCharacters() {
        #expect(Self.errors(changing: "source", to: "nyc\u{1F}311") == ["source invalid_characters"])
        #expect(Self.errors(changing: "external_id", to: "a\u{1F}b") == [])
    }

    @Test(
        "times need an RFC 3339 offset",
        arguments: [
            ("2025-03-14T01:20:00", "missing_offset"),
            ("2025-03-14T01:20:00.250", "missing_offset"),
            ("2025-03-14T01:20:00+0400", "invalid_time"),
            ("2025-03-14T01:20:00-04", "invalid_time"),
            ("2025-03-14 01:20:00Z", "invalid_time"),
            ("2025-03-14", "invalid_time"),
            ("2025-02-30T01:20:00Z", "invalid_time"),
            ("2025-03-14T24:00:00Z", "invalid_time"),
            ("2016-12-31T23:59:60Z", "invalid_time"),
            ("2025-03-14T01:20:00.Z", "invalid_time"),
            ("20250314T012000Z", "invalid_time"),
            ("2025-13-01T00:00:00Z", "invalid_time"),
            ("2025-03-14T01:20:00+24:00", "invalid_time"),
            ("2025-03-14T01:20:00Zjunk", "invalid_time"),
            ("yesterday", "invalid_time"),
            ("", "invalid_time"),
        ])
    func badTimes(text: String, code: String) {
        for key in ["occurred_at", "reported_at", "closed_at", "updated_at"] {
            #expect(Self.errors(changing: key, to: text) == ["\(key) \(code)"])
        }
    }

    @Test(
        "valid time forms",
        arguments: [
            ("2025-03-14T01:20:00-04:00", "2025-03-14T05:20:00Z"),
            ("2025-03-14T05:20:00Z", "2025-03-14T05:20:00Z"),
            ("2025-03-14t05:20:00z", "2025-03-14T05:20:00Z"),
            ("2025-03-14T10:50:00.500+05:30", "2025-03-14T05:20:00.500Z"),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"),
        ])
    func goodTimes(text: String, utc: String) throws {
        var object = Self.minimal
        object["occurred_at"] = text
        let raw = try IncidentValidator.validate(object).get()
        let expected = try #require(RFC3339.date(from: utc))
        #expect(abs(raw.occurredAt.timeIntervalSince(expected)) < 0.000_5)
    }

    @Test("a time that is not a string is wrong_type")
    func timeWrongType() {
        #expect(Self.errors(changing: "occurred_at", to: 1_741_929_600) == ["occurred_at wrong_type"])
    }

    @Test("coordinates: numbers, in range, paired, not null island")
    func coordinates() {
        #expect(Self.errors(changing: "location", to: ["lat": 91, "lon": 0.5]) == ["location.lat out_of_range"])
        #expect(Self.errors(changing: "location", to: ["lat": -90, "lon": -180]) == [])
        #expect(Self.errors(changing: "location", to: ["lat": 45, "lon": 180.0001]) == ["location.lon out_of_range"])
        #expect(Self.errors(changing: "location", to: ["lat": "40.7", "lon": -73.9]) == ["location.lat wrong_type"])
        #expect(Self.errors(changing: "location", to: ["lat": true, "lon": -73.9]) == ["location.lat wrong_type"])
        #expect(Self.errors(changing: "location", to: ["lat": 0, "lon": 0]) == ["location null_island"])
        #expect(Self.errors(changing: "location", to: ["lat": 0.0, "lon": 0.5]) == [])
        #expect(Self.errors(changing: "location", to: ["lat": 40.7]) == ["location.lon required"])
        #expect(Self.errors(changing: "location", to: ["lon": -73.9, "lat": NSNull()]) == ["location.lat required"])
        #expect(Self.errors(changing: "location", to: "40.7,-73.9") == ["location wrong_type"])
    }

    @Test("a location is required: coordinates or a non-blank area hint")
    func locationRequired() {
        var object = Self.minimal
        object["location"] = nil
        #expect(Self.errors(object) == ["location required"])
        object["location"] = ["address": "285 COZINE AVENUE"]
        #expect(Self.errors(object) == ["location required"])
        object["area_hint"] = " "
        #expect(Self.errors(object) == ["area_hint empty"])
        object["area_hint"] = 5
        #expect(Self.errors(object) == ["area_hint wrong_type"])
        // A hint does not excuse half a coordinate.
        object["area_hint"] = "05 BROOKLYN"
        object["location"] = ["lat": 40.7]
        #expect(Self.errors(object) == ["location.lon required"])
        // Nor null island.
        object["location"] = ["lat": 0, "lon": 0]
        #expect(Self.errors(object) == ["location null_island"])
    }

    @Test("text lengths")
    func textLengths() {
        #expect(Self.errors(changing: "description", to: String(repeating: "a", count: 4_000)) == [])
        #expect(Self.errors(changing: "description", to: String(repeating: "a", count: 4_001)) == ["description too_long"])
        // Characters, not bytes: 4,000 emoji are fine.
        #expect(Self.errors(changing: "description", to: String(repeating: "🚨", count: 4_000)) == [])
        #expect(Self.errors(changing: "description", to: 5) == ["description wrong_type"])
        #expect(Self.errors(changing: "status", to: String(repeating: "a", count: 257)) == ["status too_long"])
        #expect(Self.errors(changing: "status", to: ["open"]) == ["status wrong_type"])
        #expect(Self.errors(changing: "location", to: ["lat": 1, "lon": 1, "address": String(repeating: "a", count: 257)]) == ["location.address too_long"])
    }

    @Test("severity: null or an integer from 1 to 5")
    func severity() throws {
        #expect(Self.errors(changing: "severity", to: NSNull()) == [])
        #expect(Self.errors(changing: "severity", to: 0) == ["severity out_of_range"])
        #expect(Self.errors(changing: "severity", to: 6) == ["severity out_of_range"])
        #expect(Self.errors(changing: "severity", to: 2.5) == ["severity not_an_integer"])
        #expect(Self.errors(changing: "severity", to: "3") == ["severity wrong_type"])
        #expect(Self.errors(changing: "severity", to: true) == ["severity wrong_type"])
        var object = Self.minimal
        for value in 1...5 {
            object["severity"] = value
            #expect(try IncidentValidator.validate(object).get().severity == value)
        }
        let fromJSON = try IncidentValidator.validate(
            json: Array(#"{"source":"s","external_id":"1","category":"c","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x","severity":3.0}"#.utf8)
        ).get()
        #expect(fromJSON.severity == 3)
    }

    @Test("attributes: at most 50 string members of at most 256 characters")
    func attributes() throws {
        #expect(Self.errors(changing: "attributes", to: ["agency": 5]) == ["attributes.agency not_a_string"])
        #expect(Self.errors(changing: "attributes", to: ["open": true]) == ["attributes.open not_a_string"])
        #expect(Self.errors(changing: "attributes", to: ["nested": ["a": "b"]]) == ["attributes.nested not_a_string"])
        #expect(Self.errors(changing: "attributes", to: ["agency": String(repeating: "a", count: 257)]) == ["attributes.agency too_long"])
        #expect(Self.errors(changing: "attributes", to: ["NYPD"]) == ["attributes wrong_type"])
        let fifty = Dictionary(uniqueKeysWithValues: (1...50).map { ("k\($0)", "v") })
        #expect(Self.errors(changing: "attributes", to: fifty) == [])
        #expect(Self.errors(changing: "attributes", to: fifty.merging(["k51": "v"]) { $1 }) == ["attributes too_many"])
        // Members are reported in name order.
        #expect(Self.errors(changing: "attributes", to: ["b": 1, "a": false, "c": "ok"]) == ["attributes.a not_a_string", "attributes.b not_a_string"])
        // A null member is the same as an absent one.
        var object = Self.minimal
        object["attributes"] = ["agency": "NYPD", "descriptor": NSNull()]
        #expect(try IncidentValidator.validate(object).get().attributes == ["agency": "NYPD"])
    }

    @Test("all errors are collected, in field order")
    func collectsAllErrors() throws {
        let body = """
            {"source": "", "category": 7, "occurred_at": "2025-03-14T01:20:00",
             "reported_at": "soon", "location": {"lat": 123, "lon": "x"}, "severity": 9,
             "description": \(String(repeating: "x", count: 4_001).debugDescription),
             "attributes": {"agency": 1}}
            """
        let result = IncidentValidator.validate(json: Array(body.utf8))
        guard case .failure(let failure) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.errors.map { "\($0.field) \($0.code)" } == [
            "source empty", "external_id required", "category wrong_type", "description too_long",
            "occurred_at missing_offset", "reported_at invalid_time", "location.lat out_of_range",
            "location.lon wrong_type", "severity out_of_range", "attributes.agency not_a_string",
        ])
        #expect(failure.errors.allSatisfy { !$0.message.isEmpty })
        let codes = Set(IncidentValidator.Code.allCases.map(\.rawValue))
        #expect(failure.errors.allSatisfy { codes.contains($0.code) })
    }

    @Test("bytes that are not a JSON object")
    func notAnObject() {
        for body in ["", "{", "not json", "{\"source\": }"] {
            let result = IncidentValidator.validate(json: Array(body.utf8))
            #expect(result == .failure(.init(errors: [.init(field: "", code: "invalid_json", message: "the body is not valid JSON")])), "\(body)")
        }
        for body in ["[]", "\"incident\"", "42", "null"] {
            guard case .failure(let failure) = IncidentValidator.validate(json: Array(body.utf8)) else {
                Issue.record("accepted \(body)")
                continue
            }
            #expect(failure.errors.map(\.code) == ["wrong_type"])
            #expect(failure.errors.map(\.field) == [""])
        }
    }

    @Test("JSON the platform reader accepted is still accepted as the same incident: trailing commas, a byte order mark, UTF-16, escapes, long mantissas")
    func platformReaderCompatibility() throws {
        let bodies = [
            #"{"source":"s","external_id":"1","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x",}"#,
            "\u{FEFF}" + #"{"source":"s","external_id":"1","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x"}"#,
            #"{"source":"s","external_id":"caf\u00e9 \ud83d\ude00","category":"no\/ise","occurred_at":"2025-03-14T01:20:00.123456789+05:30","location":{"lat":-12.345678901234567891,"lon":1E2,"lat":40.1}}"#,
            #"{"source":"s","external_id":"1","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"x","severity":3.0,"attributes":{"a":"1","a":"2","b":null}}"#,
        ]
        for body in bodies {
            let bytes = Array(body.utf8)
            let viaFoundation = try #require(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? [String: Any])
            let expected = try IncidentValidator.validate(viaFoundation).get()
            #expect(try IncidentValidator.validate(json: bytes).get() == expected, "\(body)")
            let utf16 = Array(body.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            #expect(try IncidentValidator.validate(json: utf16).get() == expected, "UTF-16 \(body)")
        }
    }

    @Test("JSON the platform reader refused is still invalid_json: trailing garbage, raw control characters, lone surrogates, overflowing numbers, deep nesting")
    func platformReaderRefusals() {
        let bodies = [
            #"{"source":"s"} x"#, "{\"source\":\"a\nb\"}", #"{"source":"\ud800"}"#, #"{"source":"s","severity":1e400}"#,
            #"{"source":"s","x":[1,,2]}"#, #"{"source":01}"#, String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for body in bodies {
            #expect(IncidentValidator.validate(json: Array(body.utf8)) == .failure(.init(errors: [
                .init(field: "", code: "invalid_json", message: "the body is not valid JSON"),
            ])), "\(body)")
        }
    }
}
