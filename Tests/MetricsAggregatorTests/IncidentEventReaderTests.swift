import Contracts
import Foundation
import Testing
@testable import MetricsAggregator

/// The aggregator's one-pass reader of incident revisions reads what `CanonicalIncident`
/// decoding reads, and refuses what it refuses, with a reason naming the problem.
@Suite("Reading incident revisions")
struct IncidentEventReaderTests {
    static func incident(_ mutate: (inout CanonicalIncident) -> Void = { _ in }) -> CanonicalIncident {
        var incident = CanonicalIncident(
            id: UUID(), revision: 3, source: "nyc-311", externalId: "64345465", category: .animal, sourceCategory: "Animal-Abuse",
            categoryGroup: .nonCriminal, description: "Neglected \"dog\" \\ on 5th Ave — ünïcødé 🐕\nline two", occurredAt: Date(timeIntervalSince1970: 1_741_929_600.25),
            reportedAt: Date(timeIntervalSince1970: 1_741_929_700), closedAt: Date(timeIntervalSince1970: 1_742_000_000), status: "closed",
            location: IncidentLocation(lat: 40.65651334, lon: -73.88182509, address: "285 COZINE AVENUE"), areaHint: "05 BROOKLYN",
            areaId: "05 brooklyn — east", cell: "dr5rkqz", severity: 2, sensitive: false,
            attributes: ["agency": "NYPD", "descriptor": "Neglected", "nested": "{\"a\":[1,2,{\"b\":null}]}"], ingestedAt: Date(timeIntervalSince1970: 1_742_000_100))
        mutate(&incident)
        return incident
    }

    @Test("reads the same fields as decoding the whole incident, whatever else it carries")
    func sameAsDecoding() throws {
        for incident in [Self.incident(), Self.incident { $0.closedAt = nil; $0.reportedAt = nil; $0.cell = nil; $0.location = nil },
                         Self.incident { $0.category = .domesticViolence; $0.categoryGroup = .person; $0.sensitive = true; $0.revision = 1 }] {
            let bytes = Array(try CoalitionJSON.encoder.encode(incident))
            let decoded = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(bytes))
            #expect(try IncidentEventReader.read(bytes) == CountedIncident(decoded))
        }
    }

    @Test("whitespace, escaped keys, nulls and unknown members of every JSON kind are fine")
    func tolerant() throws {
        let id = UUID()
        let text = """
            { "extra" : { "deep" : [ 1, -2.5e3, true, false, null, "x\\u00e9\\ud83d\\ude00" , { } , [ ] ] } ,
              "id":"\(id.uuidString.lowercased())", "revision" : 2, "occurred_at":"2025-03-14T01:20:00-04:00",
              "reported_at":null, "closed_at":null, "area_id":"\\u0041rea \\"7\\"", "category":"theft", "category_group":"property",
              "cell":null, "sensitive":false, "\\u0063ategory_group":"property" }
            """
        let read = try IncidentEventReader.read(Array(text.utf8))
        #expect(read.id == id && read.revision == 2 && read.area == "Area \"7\"" && read.cell == nil && read.closedAt == nil)
        #expect(read.occurredAt == Date(timeIntervalSince1970: 1_741_929_600))
    }

    @Test("refuses with the reason", arguments: [
        ("", "invalid JSON"), ("[]", "invalid JSON"), ("{\"id\":}", "invalid JSON"), ("{\"a\":1} x", "trailing"),
        ("{\"a\":\"\u{01}\"}", "control character"), ("{\"a\":01}", "leading zero"), ("{\"a\":\"\\ud800\"}", "surrogate"),
        ("{\"a\":[1,]}", "invalid JSON"), ("{\"a\":1,}", "invalid JSON"),
    ])
    func malformed(_ text: String, _ reason: String) {
        #expect { try IncidentEventReader.read(Array(text.utf8)) } throws: { "\($0)".contains(reason) }
    }

    @Test("names a missing or bad member")
    func badMembers() throws {
        func without(_ key: String) throws -> [UInt8] {
            var object = try JSONSerialization.jsonObject(with: try CoalitionJSON.encoder.encode(Self.incident())) as! [String: Any]
            object[key] = nil
            return Array(try JSONSerialization.data(withJSONObject: object))
        }
        func with(_ key: String, _ value: Any) throws -> [UInt8] {
            var object = try JSONSerialization.jsonObject(with: try CoalitionJSON.encoder.encode(Self.incident())) as! [String: Any]
            object[key] = value
            return Array(try JSONSerialization.data(withJSONObject: object))
        }
        for key in ["id", "revision", "occurred_at", "area_id", "category", "category_group", "sensitive"] {
            #expect { try IncidentEventReader.read(try without(key)) } throws: { "\($0)" == "\(key) is missing" }
        }
        let cases: [(String, Any, String)] = [
            ("id", "not-a-uuid", "id is not a UUID"), ("revision", 0, "revision must be at least 1"), ("revision", 1.5, "expected an integer"),
            ("occurred_at", "2025-03-14T01:20:00", "occurred_at is not an RFC 3339 time with offset"),
            ("closed_at", "soon", "closed_at is not an RFC 3339 time with offset"), ("category", "jaywalking", "is not in taxonomy v1"),
            ("category_group", "misc", "is not a group"), ("sensitive", "yes", "expected true or false"), ("area_id", 7, "expected a string"),
        ]
        for (key, value, reason) in cases {
            #expect(throws: (any Error).self, "\(key)") { try IncidentEventReader.read(try with(key, value)) }
            do {
                _ = try IncidentEventReader.read(try with(key, value))
            } catch {
                #expect("\(error)".contains(reason), "\(key): \(error)")
            }
        }
    }
}
