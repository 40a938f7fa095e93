import Contracts
import Foundation
import Testing
import TestSupport

@testable import IncidentIngestion

/// The three public datasets in `Datasets/`, each with the
/// source its shipped mapping is for and the row count its provenance note states.
struct SeedDataset: Sendable, CustomTestStringConvertible {
    var source: String
    var file: String
    var rows: Int

    static let all = [
        SeedDataset(source: "nyc-311", file: "nyc_311_animal_complaints_2025-03.csv", rows: 4_969),
        SeedDataset(source: "sfpd-incidents", file: "sf_police_incident_reports_2018-12.csv", rows: 11_884),
        SeedDataset(source: "seattle-911", file: "seattle_911_incident_response_2016-03-25.csv", rows: 706),
    ]

    var testDescription: String { source }

    static var directory: URL { TestEnvironment.datasets }

    /// The file, or a test failure (never a skip) saying where it was expected.
    func url(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let url = Self.directory.appendingPathComponent(file)
        try #require(
            FileManager.default.isReadableFile(atPath: url.path),
            "dataset \(file) is missing: expected it at \(url.path) (the repository's Datasets folder)",
            sourceLocation: sourceLocation)
        return url
    }

    /// Every row through the shipped mapping: (line, json, problems).
    func records() throws -> [(line: Int, json: [String: Any], problems: [String])] {
        let mapping = try SeedFiles.bundled.mapping(source: source)
        let reader = try CSVReader(url: try url(), chunkSize: 16 * 1024, delimiter: mapping.delimiter)
        try mapping.check(header: try #require(reader.header))
        var result: [(line: Int, json: [String: Any], problems: [String])] = []
        while let row = try reader.nextRecord() {
            let (json, problems) = mapping.record(from: row)
            result.append((row.line, json, problems))
        }
        return result
    }
}

@Suite("Shipped datasets through their shipped mappings")
struct SeedDatasetTests {
    /// Ends in an explicit numeric offset, `±hh:mm`.
    static func hasOffset(_ time: String) -> Bool {
        let tail = Array(time.utf8.suffix(6))
        guard tail.count == 6, tail[0] == UInt8(ascii: "+") || tail[0] == UInt8(ascii: "-"), tail[3] == UInt8(ascii: ":") else { return false }
        return [1, 2, 4, 5].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(tail[$0]) }
    }

    @Test("every row is read and mapped without a problem", arguments: SeedDataset.all)
    func everyRow(dataset: SeedDataset) throws {
        let records = try dataset.records()
        #expect(records.count == dataset.rows)
        let problems = records.filter { !$0.problems.isEmpty }
        #expect(problems.isEmpty, "first: line \(problems.first?.line ?? 0): \(problems.first?.problems ?? [])")

        var ids: Set<String> = []
        var unplaced = 0
        for (line, json, _) in records {
            #expect(json["source"] as? String == dataset.source, "line \(line)")
            let id = try #require(json["external_id"] as? String, "line \(line) has no external_id")
            #expect(ids.insert(id).inserted, "external id \(id) repeats at line \(line)")
            #expect((json["category"] as? String).map { !$0.isEmpty } == true, "line \(line) has no category")
            let occurred = try #require(json["occurred_at"] as? String, "line \(line) has no occurred_at")
            #expect(Self.hasOffset(occurred), "line \(line): \(occurred) has no explicit offset")
            #expect(RFC3339.date(from: occurred) != nil, "line \(line): \(occurred) is not RFC 3339")
            for key in ["reported_at", "closed_at", "updated_at"] {
                if let time = json[key] as? String {
                    #expect(Self.hasOffset(time) && RFC3339.date(from: time) != nil, "line \(line): \(key) \(time)")
                }
            }
            let location = json["location"] as? [String: Any]
            let hasPoint = location?["lat"] is Double && location?["lon"] is Double
            if !hasPoint && json["area_hint"] == nil { unplaced += 1 }
            #expect(JSONSerialization.isValidJSONObject(json), "line \(line)")
        }
        #expect(ids.count == dataset.rows)
        #expect(unplaced == 0, "\(unplaced) records have neither coordinates nor an area hint")
    }

    @Test("the records validation will see look like the provenance notes say")
    func datasetFacts() throws {
        let nyc = try SeedDataset.all[0].records().map(\.json)
        #expect(nyc.filter { $0["closed_at"] != nil }.count == 4_692)
        #expect(nyc.filter { ($0["location"] as? [String: Any])?["lat"] == nil }.count == 62)
        #expect(Set(nyc.compactMap { $0["status"] as? String }) == ["open", "closed"])

        let sf = try SeedDataset.all[1].records().map(\.json)
        #expect(sf.filter { ($0["location"] as? [String: Any])?["lat"] == nil }.count == 608)
        #expect(Set(sf.compactMap { ($0["attributes"] as? [String: String])?["incident_id"] }).count == 9_749)
        #expect(Set(sf.compactMap { $0["category"] as? String }).count == 47)

        let seattle = try SeedDataset.all[2].records().map(\.json)
        #expect(seattle.allSatisfy { $0["closed_at"] != nil && $0["status"] as? String == "closed" })
        // At Scene Time (271 rows) is the occurrence when present, else the clearance time.
        #expect(seattle.filter { $0["occurred_at"] as? String != $0["closed_at"] as? String }.count == 271)
    }

    @Test("the first NYC row is the example of SPEC §4.1")
    func nycExample() throws {
        let first = try #require(try SeedDataset.all[0].records().first).json
        #expect(first["external_id"] as? String == "64345465")
        #expect(first["category"] as? String == "Animal-Abuse")
        #expect(first["description"] as? String == "Neglected")
        #expect(first["occurred_at"] as? String == "2025-03-14T01:20:00-04:00")
        #expect(first["reported_at"] as? String == "2025-03-14T01:20:00-04:00")
        #expect(first["closed_at"] == nil)
        #expect(first["status"] as? String == "open")
        let location = try #require(first["location"] as? [String: Any])
        #expect(location["lat"] as? Double == 40.65651334)
        #expect(location["lon"] as? Double == -73.88182509)
        #expect(location["address"] as? String == "285 COZINE AVENUE")
        #expect(first["area_hint"] as? String == "05 BROOKLYN")
        let attributes = try #require(first["attributes"] as? [String: String])
        #expect(attributes["agency"] == "NYPD")
        #expect(attributes["descriptor"] == "Neglected")
    }

    @Test("NYC: 3/9/2025 3:30 is -04:00, 3/8/2025 3:30 is -05:00; the data crosses the change correctly")
    func nycDaylightSaving() throws {
        let mapping = try SeedFiles.bundled.mapping(source: "nyc-311")
        func occurred(_ created: String) -> String? {
            mapping.record(from: ["Unique Key": "1", "Complaint Type": "Dead Animal", "Created Date": created]).json["occurred_at"] as? String
        }
        #expect(occurred("3/9/2025 3:30") == "2025-03-09T03:30:00-04:00")
        #expect(occurred("3/8/2025 3:30") == "2025-03-08T03:30:00-05:00")
        #expect(occurred("3/9/2025 2:30") == "3/9/2025 2:30", "a skipped hour is passed on raw for validation to reject")

        for json in try SeedDataset.all[0].records().map(\.json) {
            let occurred = try #require(json["occurred_at"] as? String)
            let day = occurred.prefix(10)
            let expected = day >= "2025-03-10" || (day == "2025-03-09" && occurred.dropFirst(11).prefix(2) >= "03") ? "-04:00" : "-05:00"
            #expect(occurred.hasSuffix(expected), "\(occurred)")
        }
    }

    @Test("San Francisco in December and Seattle in late March: one offset each")
    func westCoastOffsets() throws {
        for json in try SeedDataset.all[1].records().map(\.json) {
            #expect((json["occurred_at"] as? String)?.hasSuffix("-08:00") == true)
            #expect((json["reported_at"] as? String)?.hasSuffix("-08:00") == true, "reports run to February 2019, still standard time")
        }
        let first = try #require(try SeedDataset.all[1].records().first).json
        #expect(first["occurred_at"] as? String == "2018-12-01T00:25:00-08:00")
        #expect(first["external_id"] as? String == "74339603074")
        #expect(first["status"] as? String == "closed")
        for json in try SeedDataset.all[2].records().map(\.json) {
            #expect((json["occurred_at"] as? String)?.hasSuffix("-07:00") == true)
            #expect((json["closed_at"] as? String)?.hasSuffix("-07:00") == true)
        }
    }
}
