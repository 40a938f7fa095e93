import ArgumentParser
import Foundation
import IncidentIngestion

struct SourcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources", abstract: "Manage upstream sources and their API keys.",
        subcommands: [Add.self, List.self, RotateKey.self, RevokeOldKeys.self, Unmapped.self, Categories.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a source; prints its API key as the last line (stored hashed, shown once).",
            discussion: "A source shipped with Coalition (nyc-311, sfpd-incidents, seattle-911) also gets its category mapping.")

        @Option(help: "Source id: lower-case letters, digits, '.', '_' or '-'.") var id: String
        @Option(help: "Human-readable name.") var name: String
        @Option(help: "IANA time zone of the source's local times, e.g. America/New_York.") var timezone: String

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let registry = SourceRegistry(postgres: postgres)
            let key = try await registry.add(id: id, name: name, timezone: timezone)
            if let labels = ShippedCategories.labels(for: id) {
                try await registry.setCategories(source: id, labels: labels)
                print("seeded \(labels.count) category mappings for \(id)")
            }
            print("registered source \(id); its API key (shown only now):")
            print(key)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sources.")

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            for source in try await SourceRegistry(postgres: postgres).list() {
                print("\(source.id)\t\(source.name)\t\(source.timezone)\t\(source.activeKeys) active key(s)")
            }
        }
    }

    struct RotateKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-key",
            abstract: "Issue a new API key (printed as the last line); old keys stay valid until --revoke-others.")

        @Argument(help: "Source id.") var source: String
        @Flag(help: "Revoke every other key of the source now.") var revokeOthers = false

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let registry = SourceRegistry(postgres: postgres)
            let key = try await registry.rotateKey(source: source)
            if revokeOthers {
                let revoked = try await registry.revokeKeys(source: source, except: key)
                print("revoked \(revoked) older key(s)")
            }
            print("new API key for \(source) (shown only now):")
            print(key)
        }
    }

    struct RevokeOldKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-old-keys",
            abstract: "Revoke every key of a source except its newest (the end of a graceful rotation).")

        @Argument(help: "Source id.") var source: String

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let revoked = try await SourceRegistry(postgres: postgres).revokeOlderKeys(source: source)
            print("revoked \(revoked) older key(s) of \(source)")
        }
    }

    struct Unmapped: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Labels of a source that mapped to no category (they became `other`).")

        @Argument(help: "Source id.") var source: String

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let labels = try await SourceRegistry(postgres: postgres).unmapped(source: source)
            if labels.isEmpty { print("every label of \(source) is mapped") }
            for label in labels { print("\(label.occurrences)\t\(label.label)") }
        }
    }

    struct Categories: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A source's category mapping: its own labels onto taxonomy v1 codes.",
            discussion: """
                `set` replaces the mapping with a JSON file in the format of the shipped seeds \
                (Services/IncidentIngestion/Seeds/categories/); labels it lacks become `other` and \
                show in `sources unmapped`. Applies from the next batch; stored incidents keep theirs.
                """,
            subcommands: [Replace.self, List.self])

        struct Replace: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "set", abstract: "Replace a source's category mapping with a seed-format JSON file.")

            @Argument(help: "Source id.") var source: String
            @Argument(help: "The .json file.") var file: String

            func run() async throws {
                let cli = CLIEnvironment()
                let postgres = try cli.postgres()
                defer { postgres.shutdown() }
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                let count = try await SourceRegistry(postgres: postgres).setCategories(source: source, seedFile: data)
                print("\(source): \(count) category mappings")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a source's category mapping (label, code).")

            @Argument(help: "Source id.") var source: String

            func run() async throws {
                let cli = CLIEnvironment()
                let postgres = try cli.postgres()
                defer { postgres.shutdown() }
                for mapping in try await SourceRegistry(postgres: postgres).categories(source: source) { print("\(mapping.label)\t\(mapping.category)") }
            }
        }
    }
}
