import Logging

/// One schema migration: a name (the file name, e.g. `0003_alerts.sql`) and its SQL, which may
/// hold several statements but must not contain its own BEGIN/COMMIT (each migration already
/// runs in a transaction) nor statements that cannot run in one (CREATE INDEX CONCURRENTLY).
public struct PostgresMigration: Sendable, Hashable {
    public var name: String
    public var sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// Applies migrations in order, each exactly once, even with several processes starting at once.
///
/// Holds a session advisory lock (`advisoryLockKey`) for the whole run, so concurrent migrators
/// take turns; the second finds everything applied and returns an empty list. Applied migrations
/// are recorded in `coalition_schema_migrations` with the SHA-256 of their SQL (computed by the
/// server); a recorded migration whose SQL has changed is an error naming it, since editing an
/// applied migration leaves databases that ran the old version silently different.
public struct PostgresMigrator: Sendable {
    /// The `pg_advisory_lock` key ("coalitio" in ASCII), shared by every migrating process.
    public static let advisoryLockKey: Int64 = 0x636F_616C_6974_696F
    public static let tableName = "coalition_schema_migrations"

    public let migrations: [PostgresMigration]
    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, migrations: [PostgresMigration], logger: Logger) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
    }

    public init(client: PostgresClient, migrations: [(name: String, sql: String)], logger: Logger) {
        self.init(
            client: client, migrations: migrations.map { PostgresMigration(name: $0.name, sql: $0.sql) }, logger: logger
        )
    }

    /// Applies the migrations not yet applied, in list order; returns their names.
    @discardableResult
    public func migrate(file: String = #fileID, line: Int = #line) async throws -> [String] {
        var seen = Set<String>()
        for migration in migrations where !seen.insert(migration.name).inserted {
            throw PostgresError(
                code: .invalidConfiguration, message: "migration \(migration.name) is listed twice", file: file,
                line: line)
        }
        return try await client.withConnection(file: file, line: line) { connection in
            // The lock belongs to the session: closing the connection afterwards guarantees it is
            // released even if unlocking fails, instead of lingering on a pooled connection.
            connection.discardAfterUse()
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", file: file, line: line)
            do {
                let applied = try await applyPending(on: connection, file: file, line: line)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", file: file, line: line)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))")
                throw error
            }
        }
    }

    private func applyPending(on connection: PostgresConnection, file: String, line: Int) async throws -> [String] {
        try await connection.executeScript(
            unsafeSQL: """
                CREATE TABLE IF NOT EXISTS \(Self.tableName) (
                    name text PRIMARY KEY,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, file: file, line: line)
        var recorded: [String: String] = [:]
        for row in try await connection.query("SELECT name, checksum FROM \(unsafeSQL: Self.tableName)") {
            let (name, checksum) = try row.decode((String, String).self)
            recorded[name] = checksum
        }

        var applied: [String] = []
        for migration in migrations {
            let checksum = try await connection.query(
                "SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex')", file: file, line: line
            )[0].decode(0, as: String.self)
            if let existing = recorded[migration.name] {
                guard existing == checksum else {
                    throw PostgresError(
                        code: .migrationChanged,
                        message: "migration \(migration.name) was changed after it was applied "
                            + "(recorded SHA-256 \(existing.prefix(12))…, now \(checksum.prefix(12))…); "
                            + "add a new migration instead of editing an applied one",
                        file: file, line: line)
                }
                continue
            }
            logger.info("applying migration", metadata: ["postgres.migration": "\(migration.name)"])
            try await connection.withTransaction(maxAttempts: 1, file: file, line: line) { transaction in
                do {
                    try await transaction.executeScript(unsafeSQL: migration.sql, file: file, line: line)
                } catch let error as PostgresError {
                    throw error.prefixed("migration \(migration.name) failed")
                }
                try await transaction.execute(
                    "INSERT INTO \(unsafeSQL: Self.tableName) (name, checksum) VALUES (\(migration.name), \(checksum))",
                    file: file, line: line)
            }
            applied.append(migration.name)
        }
        for name in recorded.keys where !seen(name) {
            logger.warning(
                "the database has a migration this build does not know", metadata: ["postgres.migration": "\(name)"])
        }
        return applied
    }

    private func seen(_ name: String) -> Bool {
        migrations.contains { $0.name == name }
    }
}
