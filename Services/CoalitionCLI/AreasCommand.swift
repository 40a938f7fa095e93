import ArgumentParser
import Foundation
import IncidentIngestion

struct AreasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "areas", abstract: "Manage the coalition's areas (polygons incidents are assigned to).",
        subcommands: [Import.self, List.self])

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
}
