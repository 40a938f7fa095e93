import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport

/// `coalition stakeholders` and `coalition subscriptions` against a real database.
@Suite("Fan-out CLI")
struct CLITests {
    static func run(_ arguments: [String], databaseURL: String) async throws -> (status: Int32, output: [String], error: String) {
        let process = try ChildProcess(try TestEnvironment.product("coalition"), arguments: arguments, environment: ["COALITION_DATABASE_URL": databaseURL])
        let status = try await process.waitForExit(timeout: .seconds(60))
        return (status, process.lines, process.standardError)
    }

    @Test("add, list and remove stakeholders and subscriptions; bad input is refused with the reasons")
    func lifecycle() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)

            let added = try await Self.run([
                "stakeholders", "add", "--name", "Youth outreach", "--role", "community_org", "--timezone", "Europe/London",
                "--webhook", "https://hooks.example.org/youth", "--email", "team@example.org", "--sms", "+447700900123",
            ], databaseURL: databaseURL)
            #expect(added.status == 0, "\(added.error)")
            let stakeholder = try #require(added.output.first?.split(separator: "\t").first?.split(separator: " ").last.map(String.init))
            #expect(added.output.filter { $0.hasPrefix("channel ") }.count == 3)
            #expect(added.output.contains { $0.contains("\twebhook\t") && $0.contains("secret whsec_") })

            let subscribed = try await Self.run([
                "subscriptions", "add", "--stakeholder", stakeholder, "--circle", "51.5072,-0.1276,2500", "--group", "person",
                "--min-severity", "3", "--quiet-hours", "22:00-07:00",
            ], databaseURL: databaseURL)
            #expect(subscribed.status == 0, "\(subscribed.error)")
            let listed = try await Self.run(["subscriptions", "list", "--stakeholder", stakeholder], databaseURL: databaseURL)
            #expect(listed.output.count == 1)
            #expect(listed.output.first?.contains("within 2500 m of 51.5072,-0.1276") == true)
            #expect(listed.output.first?.contains("quiet 22:00-07:00") == true)
            let rows = try await postgres.query("SELECT cardinality(channel_ids) FROM subscriptions").first?.decode(0, as: Int.self)
            #expect(rows == 3, "all of the stakeholder's channels by default")

            let refused = try await Self.run([
                "subscriptions", "add", "--stakeholder", stakeholder, "--circle", "51.5,-0.12,90000", "--category", "jaywalking",
            ], databaseURL: databaseURL)
            #expect(refused.status != 0)
            #expect(refused.error.contains("circle/radius_m"))
            #expect(refused.error.contains("categories"))
            let badRole = try await Self.run(["stakeholders", "add", "--name", "x", "--role", "mayor"], databaseURL: databaseURL)
            #expect(badRole.status != 0)
            #expect(badRole.error.contains("role must be one of"))

            let removed = try await Self.run(["stakeholders", "remove", stakeholder], databaseURL: databaseURL)
            #expect(removed.status == 0)
            #expect(try await postgres.query("SELECT count(*) FROM subscriptions").first?.decode(0, as: Int.self) == 0)
        }
    }
}
