import ArgumentParser
import Foundation
import IncidentIngestion

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import incident exports.", subcommands: [CSV.self])

    struct CSV: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "csv",
            abstract: "Stream a CSV export through validation, normalization and the store (same path as HTTP).",
            discussion: "Mappings shipped with Coalition: nyc-311, sfpd-incidents, seattle-911. Rejected rows are kept on incidents.rejected with their reasons.")

        @Option(help: "Source id (defaults to the mapping's own source).") var source: String?
        @Option(help: "A shipped mapping name or the path of a mapping file.") var mapping: String
        @Argument(help: "The CSV file.") var path: String

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let importer = CSVImporter(store: IncidentStore(postgres: postgres, logger: cli.logger))
            let interactive = isatty(STDOUT_FILENO) == 1
            let summary = try await importer.run(file: URL(fileURLWithPath: path), mapping: mapping, source: source) { progress in
                let line = "read \(progress.read)  accepted \(progress.accepted)  updated \(progress.updated)  unchanged \(progress.unchanged)  rejected \(progress.rejected)"
                if interactive {
                    FileHandle.standardOutput.write(Data("\r\(line)".utf8))
                }
            }
            if interactive { print("") }
            print("read \(summary.read), accepted \(summary.accepted), updated \(summary.updated), unchanged \(summary.unchanged), rejected \(summary.rejected)")
            for (reason, count) in summary.rejectedByReason.sorted(by: { $0.value > $1.value }) {
                print("  rejected \(count): \(reason)")
            }
        }
    }
}
