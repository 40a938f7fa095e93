import ArgumentParser
import Foundation
import IncidentIngestion

struct AreasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "areas", abstract: "Manage the coalition's areas (polygons incidents are assigned to).",
        subcommands: [Import.self, List.self, Hints.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a GeoJSON FeatureCollection of Polygon/MultiPolygon areas (replaces areas with the same id).")

        @Argument(help: "The .geojson file.") var file: String
        @Option(help: "Feature property holding the area id.") var idProperty = "id"
        @Option(help: "Feature property holding the area name.") var nameProperty = "name"

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let count = try await AreaCatalog(postgres: postgres).importGeoJSON(data, idProperty: idProperty, nameProperty: nameProperty)
            print("imported \(count) areas")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List areas.")

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            for area in try await AreaCatalog(postgres: postgres).list() { print("\(area.id)\t\(area.name ?? "")") }
        }
    }

    struct Hints: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A source's area hints: the district names its records carry, mapped onto areas.",
            discussion: """
                Used when an incident has no coordinates or no area contains its point. `set` replaces \
                the source's hints with a CSV file whose header names `hint` and `area_id` (the exact \
                area_hint text and an imported area's id); nothing changes when a row is refused.
                """,
            subcommands: [Replace.self, List.self])

        struct Replace: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set", abstract: "Replace a source's area hints with a CSV file (hint,area_id).")

            @Argument(help: "Source id.") var source: String
            @Argument(help: "The .csv file.") var file: String

            func run() async throws {
                let cli = CLIEnvironment()
                let postgres = try cli.postgres()
                defer { postgres.shutdown() }
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                let count = try await AreaHints(postgres: postgres).replace(source: source, csv: data)
                print("\(source): \(count) area hints")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a source's area hints.")

            @Argument(help: "Source id.") var source: String

            func run() async throws {
                let cli = CLIEnvironment()
                let postgres = try cli.postgres()
                defer { postgres.shutdown() }
                for hint in try await AreaHints(postgres: postgres).list(source: source) { print("\(hint.hint)\t\(hint.areaID)") }
            }
        }
    }
}
