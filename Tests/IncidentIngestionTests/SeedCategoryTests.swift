import Contracts
import Foundation
import Testing

@testable import IncidentIngestion

@Suite("Shipped category tables and seed files")
struct SeedCategoryTests {
    /// SPEC §4.2, taxonomy v1, written out independently of `IncidentCategory`.
    static let canonicalCodes: Set<String> = [
        "homicide", "assault", "sex_offense", "domestic_violence", "robbery", "burglary", "theft", "motor_vehicle_theft",
        "arson", "vandalism", "fraud", "drug", "weapons", "disorder", "noise", "traffic", "suspicious_activity",
        "mental_health_crisis", "missing_person", "animal", "public_health", "other",
    ]

    @Test("the taxonomy in Contracts is the one SPEC §4.2 lists")
    func taxonomyMatchesSpec() {
        #expect(Set(IncidentCategory.allCases.map(\.rawValue)) == Self.canonicalCodes)
    }

    @Test("every source ships both a CSV mapping and a category table")
    func seedFilesListing() throws {
        let seeds = SeedFiles.bundled
        #expect(try seeds.mappingSources() == ["nyc-311", "seattle-911", "sfpd-incidents"])
        #expect(try seeds.categorySources() == ["nyc-311", "seattle-911", "sfpd-incidents"])
        #expect(try seeds.mappings().map(\.source) == ["nyc-311", "seattle-911", "sfpd-incidents"])
        #expect(try seeds.allCategories().keys.sorted() == ["nyc-311", "seattle-911", "sfpd-incidents"])
        #expect(try seeds.mapping(source: "sfpd-incidents").timeZone.identifier == "America/Los_Angeles")
    }

    @Test("every label in a dataset's category columns is mapped, onto a canonical code, with nothing stale", arguments: SeedDataset.all)
    func labelsCovered(dataset: SeedDataset) throws {
        let seeds = SeedFiles.bundled
        let table = try seeds.categories(source: dataset.source)
        let mapping = try seeds.mapping(source: dataset.source)
        #expect(table.columns == mapping.fields.category.columns, "the table documents the columns the mapping reads")
        #expect(table.taxonomyVersion == IncidentCategory.taxonomyVersion)

        let reader = try CSVReader(url: try dataset.url())
        var labels: [String: Int] = [:]
        while let row = try reader.nextRecord() {
            for column in table.columns {
                let label = try #require(row[column])
                if !label.allSatisfy(\.isWhitespace) { labels[label, default: 0] += 1 }
            }
        }
        let unmapped = labels.keys.filter { table.labels[$0] == nil }.sorted()
        #expect(unmapped.isEmpty, "unmapped labels: \(unmapped)")
        let stale = table.labels.keys.filter { labels[$0] == nil }.sorted()
        #expect(stale.isEmpty, "labels not in the data: \(stale)")
        for (label, category) in table.labels {
            #expect(Self.canonicalCodes.contains(category.rawValue), "\(label) → \(category.rawValue)")
        }
        // The raw file says the same as the decoded table: no code was coerced on the way in.
        let raw = try JSONSerialization.jsonObject(with: Data(contentsOf: seeds.categoriesDirectory.appendingPathComponent("\(dataset.source).json")))
        let rawLabels = try #require((raw as? [String: Any])?["labels"] as? [String: String])
        #expect(rawLabels == table.labels.mapValues(\.rawValue))
    }

    @Test(
        "judgement calls worth pinning",
        arguments: [
            ("nyc-311", "Animal-Abuse", IncidentCategory.animal), ("nyc-311", "Dead Animal", .animal),
            ("nyc-311", "Unsanitary Animal Pvt Property", .animal),
            ("sfpd-incidents", "Larceny Theft", .theft), ("sfpd-incidents", "Motor Vehicle Theft", .motorVehicleTheft),
            ("sfpd-incidents", "Motor Vehicle Theft?", .motorVehicleTheft),
            ("sfpd-incidents", "Offences Against The Family And Children", .domesticViolence),
            ("sfpd-incidents", "Malicious Mischief", .vandalism), ("sfpd-incidents", "Suicide", .mentalHealthCrisis),
            ("sfpd-incidents", "Prostitution", .disorder), ("sfpd-incidents", "Recovered Vehicle", .other),
            ("sfpd-incidents", "Rape", .sexOffense), ("sfpd-incidents", "Non-Criminal", .other),
            ("seattle-911", "TRAFFIC RELATED CALLS", .traffic), ("seattle-911", "DISTURBANCES", .disorder),
            ("seattle-911", "SUSPICIOUS CIRCUMSTANCES", .suspiciousActivity), ("seattle-911", "NOISE DISTURBANCE", .noise),
            ("seattle-911", "BEHAVIORAL HEALTH", .mentalHealthCrisis), ("seattle-911", "CAR PROWL", .theft),
            ("seattle-911", "FALSE ALACAD", .other), ("seattle-911", "THREATS, HARASSMENT", .assault),
        ] as [(String, String, IncidentCategory)])
    func pinned(source: String, label: String, category: IncidentCategory) throws {
        #expect(try SeedFiles.bundled.categories(source: source).labels[label] == category)
    }

    @Test("an operator's seed folder with mistakes is refused")
    func badSeedFolder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seeds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let seeds = SeedFiles(directory: directory)
        try FileManager.default.createDirectory(at: seeds.mappingsDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: seeds.categoriesDirectory, withIntermediateDirectories: true)

        try Data(#"{"source": "other", "taxonomy_version": 1, "labels": {"A": "theft"}}"#.utf8)
            .write(to: seeds.categoriesDirectory.appendingPathComponent("mine.json"))
        #expect(throws: CSVMappingError.self) { try seeds.categories(source: "mine") }

        try Data(#"{"source": "mine", "taxonomy_version": 1, "labels": {"A": "larceny"}}"#.utf8)
            .write(to: seeds.categoriesDirectory.appendingPathComponent("mine.json"))
        #expect(throws: CSVMappingError.self) { try seeds.categories(source: "mine") }

        try Data(#"{"source": "mine", "taxonomy_version": 2, "labels": {"A": "theft"}}"#.utf8)
            .write(to: seeds.categoriesDirectory.appendingPathComponent("mine.json"))
        #expect(throws: CSVMappingError.self) { try seeds.categories(source: "mine") }

        try Data(#"{"source": "mine", "taxonomy_version": 1, "labels": {"A": "theft"}}"#.utf8)
            .write(to: seeds.categoriesDirectory.appendingPathComponent("mine.json"))
        #expect(try seeds.categories(source: "mine").labels == ["A": .theft])

        let nyc = try Data(contentsOf: SeedFiles.bundled.mappingsDirectory.appendingPathComponent("nyc-311.json"))
        try nyc.write(to: seeds.mappingsDirectory.appendingPathComponent("renamed.json"))
        #expect(throws: CSVMappingError.self) { try seeds.mapping(source: "renamed") }
        #expect(try seeds.mappingSources() == ["renamed"])
        #expect(throws: CSVMappingError.self) { try seeds.mapping(source: "absent") }
    }
}
