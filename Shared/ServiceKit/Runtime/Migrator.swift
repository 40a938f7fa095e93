import Logging
import Migrations
import Postgres

/// Applies the repository's migrations (`Migrations/SQL`) under the advisory lock.
public enum Migrator {
    @discardableResult
    public static func migrate(_ postgres: PostgresClient, logger: Logger) async throws -> [String] {
        let files = try MigrationFiles.all()
        let migrations = files.map { PostgresMigration(name: $0.name, sql: $0.sql) }
        return try await PostgresMigrator(client: postgres, migrations: migrations, logger: logger).migrate()
    }
}
