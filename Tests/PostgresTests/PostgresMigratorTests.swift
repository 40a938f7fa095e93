import Postgres
import TestSupport
import Testing

@Suite struct PostgresMigratorTests {
    static let migrations = [
        PostgresMigration(
            name: "0001_effects.sql",
            sql: """
                CREATE TABLE effects (migration text NOT NULL);
                INSERT INTO effects VALUES ('0001');
                """),
        PostgresMigration(
            name: "0002_function.sql",
            sql: """
                -- several statements, including a dollar-quoted body with semicolons
                CREATE FUNCTION add_one(n int) RETURNS int LANGUAGE plpgsql AS $$
                BEGIN
                    RETURN n + 1;
                END;
                $$;
                INSERT INTO effects VALUES ('0002');
                SELECT pg_sleep(0.2);
                """),
        PostgresMigration(
            name: "0003_table.sql",
            sql: "CREATE TABLE widgets (id int PRIMARY KEY); INSERT INTO effects VALUES ('0003');"),
    ]

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { first in
                try await withClient(url: url) { second in
                    let logger = TestDatabase.logger
                    async let a = PostgresMigrator(client: first, migrations: Self.migrations, logger: logger).migrate()
                    async let b = PostgresMigrator(client: second, migrations: Self.migrations, logger: logger)
                        .migrate()
                    let (appliedByA, appliedByB) = try await (a, b)

                    let applied = appliedByA + appliedByB
                    #expect(applied.sorted() == Self.migrations.map(\.name))
                    // The advisory lock makes one wait for the other, which then finds nothing to do.
                    #expect(appliedByA.isEmpty || appliedByB.isEmpty)

                    let effects = try await first.query("SELECT migration FROM effects ORDER BY migration").map {
                        try $0.decode(0, as: String.self)
                    }
                    #expect(effects == ["0001", "0002", "0003"])
                    #expect(try await first.query("SELECT add_one(41)")[0].decode(0, as: Int.self) == 42)
                    let recorded = try await first.query(
                        "SELECT name, checksum, applied_at IS NOT NULL FROM coalition_schema_migrations ORDER BY name")
                    #expect(try recorded.map { try $0.decode(0, as: String.self) } == Self.migrations.map(\.name))
                    #expect(
                        try recorded.allSatisfy {
                            try $0.decode(1, as: String.self).count == 64 && $0.decode(2, as: Bool.self)
                        })

                    // Running again applies nothing.
                    #expect(
                        try await PostgresMigrator(client: first, migrations: Self.migrations, logger: logger).migrate()
                            == [])

                    // Editing an applied migration is refused, naming the file.
                    var edited = Self.migrations
                    edited[1].sql += "\n-- edited"
                    let error = await #expect(throws: PostgresError.self) {
                        try await PostgresMigrator(client: first, migrations: edited, logger: logger).migrate()
                    }
                    #expect(error?.code == .migrationChanged)
                    #expect(error?.description.contains("0002_function.sql") == true)

                    // A new migration is applied alone; a failing one rolls back completely and is named.
                    let added =
                        Self.migrations + [
                            PostgresMigration(name: "0004_more.sql", sql: "ALTER TABLE widgets ADD name text;")
                        ]
                    #expect(
                        try await PostgresMigrator(client: second, migrations: added, logger: logger).migrate() == [
                            "0004_more.sql"
                        ])
                    let broken =
                        added + [
                            PostgresMigration(
                                name: "0005_broken.sql",
                                sql: "INSERT INTO effects VALUES ('0005'); SELECT * FROM nowhere;")
                        ]
                    let failure = await #expect(throws: PostgresError.self) {
                        try await PostgresMigrator(client: second, migrations: broken, logger: logger).migrate()
                    }
                    #expect(failure?.sqlState == "42P01")
                    #expect(failure?.description.contains("0005_broken.sql") == true)
                    #expect(try await first.query("SELECT count(*) FROM effects")[0].decode(0, as: Int.self) == 3)

                    // The failed run released the advisory lock.
                    #expect(
                        try await PostgresMigrator(client: first, migrations: added, logger: logger).migrate() == [])
                }
            }
        }
    }
}
