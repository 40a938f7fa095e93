import ArgumentParser
import ServiceKit

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply the schema migrations that are not applied yet (safe to run concurrently).")

    func run() async throws {
        let cli = CLIEnvironment()
        let postgres = try cli.postgres()
        let applied = try await Migrator.migrate(postgres, logger: cli.logger)
        postgres.shutdown()
        print(applied.isEmpty ? "schema is up to date" : applied.map { "applied \($0)" }.joined(separator: "\n"))
    }
}
