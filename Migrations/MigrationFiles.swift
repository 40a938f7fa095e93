import Foundation

/// The schema migrations, shipped as a resource bundle next to every binary so services
/// and the CLI apply the same files (`Migrations/SQL/NNNN_name.sql`, applied in name order).
public enum MigrationFiles {
    public struct File: Sendable {
        public let name: String
        public let sql: String
    }

    public static func all() throws -> [File] {
        guard let directory = Bundle.module.url(forResource: "SQL", withExtension: nil) else {
            return []
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        return try names.map { name in
            File(name: name, sql: try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
        }
    }
}
