import Foundation
import Kafka
import Logging

/// The infrastructure `make test` started (`.run/env`). A missing variable fails the test
/// with the fix, never skips it.
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        public let variable: String
        public var description: String {
            "\(variable) is not set: run `make infra-up` and `source .run/env` (or use `make test`)"
        }
    }

    public static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }

    public static func brokers() throws -> String { try value("COALITION_KAFKA_BROKERS") }
    public static func databaseURL() throws -> String { try value("COALITION_DATABASE_URL") }

    /// `Datasets/`: the three public datasets (NYC 311, SFPD, Seattle 911) kept in the
    /// repository byte for byte, with their provenance.
    public static var datasets: URL { repositoryRoot.appendingPathComponent("Datasets", isDirectory: true) }

    /// The repository root (for scripts, judges and built products).
    public static var repositoryRoot: URL {
        if let root = ProcessInfo.processInfo.environment["COALITION_REPO_ROOT"], !root.isEmpty {
            return URL(fileURLWithPath: root)
        }
        // Tests/TestSupport/TestEnvironment.swift → repository root
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A built executable of this package, from the same build folder as the test bundle.
    public static func product(_ name: String) throws -> URL {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [bundleDirectory, bundleDirectory.deletingLastPathComponent(), repositoryRoot.appendingPathComponent(".build/debug")] {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw Missing(variable: "built product \(name) (run `swift build` first)")
    }

    /// The Python of the judges' virtual environment (`make setup`).
    public static func python() throws -> URL {
        let python = repositoryRoot.appendingPathComponent(".local/venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else { throw Missing(variable: "judge Python (.local/venv; run `make setup`)") }
        return python
    }

    /// A unique, readable name for topics, groups and databases of one test.
    public static func uniqueName(_ label: String) -> String {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        return "t\(label.lowercased().filter { $0.isLetter || $0.isNumber })\(suffix)"
    }

    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    public static func kafka(clientID: String = "test") throws -> KafkaConfiguration {
        KafkaConfiguration(brokers: try brokers(), clientID: clientID, statisticsInterval: .zero)
    }
}
