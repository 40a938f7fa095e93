import Foundation
import Testing

@testable import IncidentIngestion

@Suite("CSV mapping: file format and record building")
struct CSVMappingTests {
    static let minimal = """
        {
          "source": "test-source",
          "time_zone": "America/New_York",
          "fields": {
            "external_id": {"column": "ID"},
            "category": {"columns": ["Type", "Subtype"], "missing_values": ["N/A"]},
            "description": {"column": "Text"},
            "occurred_at": {"columns": ["When", "Logged"], "format": "M/d/yyyy H:mm"},
            "closed_at": {"column": "Closed", "format": "M/d/yyyy H:mm"},
            "status": {"column": "State", "values": {"Closed": "closed", "Open": "open"}},
            "latitude": {"column": "Lat"},
            "longitude": {"column": "Lon"},
            "address": {"column": "Address"},
            "area_hint": {"columns": ["District", "Borough"], "missing_values": ["Unspecified"]}
          },
          "attributes": {"Agency": "agency", "Type": "type"}
        }
        """

    static func mapping(_ text: String = minimal) throws -> CSVMapping {
        try CSVMapping(json: Data(text.utf8))
    }

    static let row: [String: String] = [
        "ID": "42", "Type": "Noise", "Subtype": "Loud Music", "Text": "Party", "When": "3/14/2025 1:20", "Logged": "",
        "Closed": "3/14/2025 2:00", "State": "Closed", "Lat": "40.5", "Lon": "-73.9", "Address": "1 MAIN ST",
        "District": "05 BROOKLYN", "Borough": "BROOKLYN", "Agency": "NYPD",
    ]

    static func changed(_ changes: [String: String]) -> [String: String] {
        row.merging(changes) { $1 }
    }

    @Test("a complete row becomes the raw-incident object of SPEC §4.1")
    func completeRow() throws {
        let (json, problems) = try Self.mapping().record(from: Self.row)
        #expect(problems.isEmpty)
        #expect(json["source"] as? String == "test-source")
        #expect(json["external_id"] as? String == "42")
        #expect(json["category"] as? String == "Noise")
        #expect(json["description"] as? String == "Party")
        #expect(json["occurred_at"] as? String == "2025-03-14T01:20:00-04:00")
        #expect(json["closed_at"] as? String == "2025-03-14T02:00:00-04:00")
        #expect(json["reported_at"] == nil)
        #expect(json["status"] as? String == "closed")
        let location = try #require(json["location"] as? [String: Any])
        #expect(location["lat"] as? Double == 40.5)
        #expect(location["lon"] as? Double == -73.9)
        #expect(location["address"] as? String == "1 MAIN ST")
        #expect(json["area_hint"] as? String == "05 BROOKLYN")
        #expect(json["attributes"] as? [String: String] == ["agency": "NYPD", "type": "Noise"])
        // The object is plain JSON.
        #expect(JSONSerialization.isValidJSONObject(json))
    }

    @Test("the first column with a value wins; blanks and missing values fall through")
    func fallbacks() throws {
        let mapping = try Self.mapping()
        var (json, problems) = mapping.record(from: Self.changed(["Type": "N/A", "When": " ", "Logged": "3/1/2025 9:00", "District": "Unspecified"]))
        #expect(problems.isEmpty)
        #expect(json["category"] as? String == "Loud Music")
        #expect(json["occurred_at"] as? String == "2025-03-01T09:00:00-05:00")
        #expect(json["area_hint"] as? String == "BROOKLYN")
        (json, problems) = mapping.record(from: Self.changed(["Lat": "", "Lon": "", "Address": "", "District": "", "Borough": "", "Agency": ""]))
        #expect(json["location"] == nil)
        #expect(json["area_hint"] == nil)
        #expect(json["attributes"] as? [String: String] == ["type": "Noise"])
        #expect(problems.isEmpty, "an absent location is validation's call, not the mapping's")
    }

    @Test("values the mapping cannot convert go on as raw text with a problem, never fixed")
    func unconvertible() throws {
        let mapping = try Self.mapping()
        var (json, problems) = mapping.record(from: Self.changed(["When": "14/3/2025 1:20"]))
        #expect(json["occurred_at"] as? String == "14/3/2025 1:20")
        #expect(problems == ["occurred_at: \"14/3/2025 1:20\" does not match the format \"M/d/yyyy H:mm\""])

        (json, problems) = mapping.record(from: Self.changed(["When": "3/9/2025 2:30"]))
        #expect(json["occurred_at"] as? String == "3/9/2025 2:30")
        #expect(problems.count == 1 && problems[0].contains("does not exist in America/New_York"))

        (json, problems) = mapping.record(from: Self.changed(["Lat": "forty", "Lon": "nan"]))
        let location = try #require(json["location"] as? [String: Any])
        #expect(location["lat"] as? String == "forty")
        #expect(location["lon"] as? String == "nan")
        #expect(problems.count == 2)

        (json, problems) = mapping.record(from: Self.changed(["Lon": ""]))
        #expect((json["location"] as? [String: Any])?["lat"] as? Double == 40.5)
        #expect(problems == ["location: only one of latitude and longitude has a value"])

        (json, problems) = mapping.record(from: Self.changed(["State": "Reopened"]))
        #expect(json["status"] as? String == "Reopened")
        #expect(problems == ["status: \"Reopened\" is not among the mapping's status values"])
    }

    @Test("missing required values are reported and left out")
    func missingRequired() throws {
        let (json, problems) = try Self.mapping().record(from: Self.changed(["ID": "", "Type": "", "Subtype": "", "When": "", "Logged": ""]))
        #expect(json["external_id"] == nil)
        #expect(json["category"] == nil)
        #expect(json["occurred_at"] == nil)
        #expect(
            problems == [
                "external_id: no value in \"ID\"", "category: no value in \"Type\" or \"Subtype\"",
                "occurred_at: no value in \"When\" or \"Logged\"",
            ])
    }

    @Test("a status present with any value can mean one status")
    func statusIfPresent() throws {
        let text = Self.minimal.replacingOccurrences(
            of: #""status": {"column": "State", "values": {"Closed": "closed", "Open": "open"}}"#,
            with: #""status": {"column": "State", "if_present": "closed"}"#)
        let mapping = try Self.mapping(text)
        #expect(mapping.record(from: Self.changed(["State": "X"])).json["status"] as? String == "closed")
        #expect(mapping.record(from: Self.changed(["State": ""])).json["status"] == nil)
    }

    @Test("a header missing mapped columns is refused before any row is read")
    func headerCheck() throws {
        let mapping = try Self.mapping()
        try mapping.check(header: CSVHeader(Array(Self.row.keys)))
        let partial = try CSVHeader(Array(Self.row.keys.filter { $0 != "Borough" && $0 != "Agency" }))
        do {
            try mapping.check(header: partial)
            Issue.record("expected missing columns")
        } catch {
            #expect(error.code == .missingColumns)
            #expect(error.message.contains("\"Agency\", \"Borough\""))
        }
        // A row without a column says so per field.
        var row = Self.row
        row["Closed"] = nil
        #expect(mapping.record(from: row).problems == ["closed_at: the row has no column \"Closed\""])
    }

    @Test(
        "mapping files with mistakes are refused naming the path",
        arguments: [
            (#"{"source": "x", "time_zone": "America/New_York", "fields": {}, "extra": 1}"#, "unknown_key", "extra"),
            (#"{"time_zone": "America/New_York", "fields": {}}"#, "missing_key", "source"),
            (#"{"source": "x", "time_zone": "Mars/Olympus", "fields": {}}"#, "invalid_value", "time_zone"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"category": {"column": "c"}, "occurred_at": {"column": "t", "format": "x"}}}"#, "missing_key", "fields.external_id"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"external_id": {"column": "i"}, "category": {"column": "c"}, "occurred_at": {"column": "t"}}}"#, "missing_key", "fields.occurred_at.format"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"external_id": {"column": "i"}, "category": {"column": "c"}, "occurred_at": {"column": "t", "format": "dd/MM/yy"}}}"#, "invalid_value", "fields.occurred_at.format"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"external_id": {"column": "i", "colunm": "j"}, "category": {"column": "c"}, "occurred_at": {"column": "t", "format": "yyyy"}}}"#, "unknown_key", "fields.external_id.colunm"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"external_id": {"column": "i", "columns": ["j"]}, "category": {"column": "c"}, "occurred_at": {"column": "t", "format": "yyyy"}}}"#, "invalid_value", "fields.external_id"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"external_id": {"column": "i"}, "category": {"column": "c"}, "occurred_at": {"column": "t", "format": "yyyy/M/d"}, "latitude": {"column": "y"}}}"#, "invalid_value", "fields"),
            (#"{"source": "x", "time_zone": "UTC", "daylight_saving": {"nonexistent": "guess"}, "fields": {}}"#, "invalid_value", "daylight_saving.nonexistent"),
            (#"{"source": "x", "time_zone": "UTC", "delimiter": ",,", "fields": {}}"#, "invalid_value", "delimiter"),
            (#"{"source": "x", "time_zone": "UTC", "delimiter": "\n", "fields": {}}"#, "invalid_value", "delimiter"),
            (#"{"source": "x", "format_version": 2, "time_zone": "UTC", "fields": {}}"#, "invalid_value", "format_version"),
            (#"{"source": "x", "time_zone": "UTC", "fields": {"external_id": {"column": "i"}, "category": {"column": "c"}, "occurred_at": {"column": "t", "format": "yyyy/M/d"}}, "attributes": {"A": "k", "B": "k"}}"#, "invalid_value", "attributes"),
            (#"[1, 2]"#, "invalid_json", nil),
            (#"{"source": "#, "invalid_json", nil),
        ] as [(String, String, String?)])
    func badMappings(json: String, code: String, path: String?) {
        do {
            _ = try CSVMapping(json: Data(json.utf8))
            Issue.record("expected \(code)")
        } catch {
            #expect(error.code.description == code, "\(error)")
            #expect(error.path == path, "\(error)")
        }
    }

    @Test("the example in mappings/README.md is a valid mapping")
    func readmeExample() throws {
        let readme = try String(
            contentsOf: SeedFiles.bundled.mappingsDirectory.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "```json\n"))
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        let mapping = try CSVMapping(json: Data(readme[start.upperBound..<end.lowerBound].utf8))
        #expect(mapping.source == "my-city-311")
        #expect(mapping.fields.areaHint?.columns == ["Community Board", "Borough"])
    }

    @Test("records read straight from a CSV file through the reader")
    func throughReader() throws {
        let header = Self.row.keys.sorted()
        let csv = header.joined(separator: ",") + "\r\n" + header.map { "\"\(Self.row[$0]!)\"" }.joined(separator: ",") + "\r\n"
        let reader = try CSVReader(data: Data(csv.utf8), chunkSize: 5)
        let mapping = try Self.mapping()
        try mapping.check(header: #require(reader.header))
        let row = try #require(try reader.nextRecord())
        let (json, problems) = mapping.record(from: row)
        #expect(problems.isEmpty)
        #expect(json["occurred_at"] as? String == "2025-03-14T01:20:00-04:00")
    }
}
