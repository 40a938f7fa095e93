import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport

/// `coalition meetings …` against a real database.
@Suite("Meetings CLI")
struct MeetingsCLITests {
    static func run(_ arguments: [String], databaseURL: String) async throws -> (status: Int32, output: String, error: String) {
        let process = try ChildProcess(try TestEnvironment.product("coalition"), arguments: arguments, environment: ["COALITION_DATABASE_URL": databaseURL])
        let status = try await process.waitForExit(timeout: .seconds(60))
        return (status, process.lines.joined(separator: "\n"), process.standardError)
    }

    @Test("request books the best slot and prints it; an impossible request exits non-zero with the reason; cancel increments SEQUENCE")
    func requestAndCancel() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let police = UUID(), official = UUID()
            try await postgres.execute("INSERT INTO stakeholders (id, name, role, timezone) VALUES (\(police), 'Officer Diaz', 'law_enforcement', 'UTC')")
            try await postgres.execute("INSERT INTO stakeholders (id, name, role, timezone) VALUES (\(official), 'Okafor', 'local_government', 'UTC')")
            try await postgres.execute("INSERT INTO stakeholder_busy (id, stakeholder_id, during) VALUES (\(UUID()), \(official), '[2025-01-14T14:00Z,2025-01-14T16:00Z)')")
            let venue = try await Self.run(["meetings", "add-venue", "--name", "Library", "--capacity", "20", "--accessible"], databaseURL: databaseURL)
            #expect(venue.status == 0, "\(venue.error)")
            let base = ["meetings", "request", "--title", "Joint leadership", "--type", "joint_leadership", "--area", "brooklyn-05", "--duration", "60",
                        "--from", "2025-01-14T14:00:00Z", "--to", "2025-01-14T18:00:00Z", "--timezone", "America/New_York",
                        "--invite", police.uuidString, "--invite", official.uuidString, "--need", "law_enforcement=1", "--need", "local_government=1",
                        "--venue-capacity", "10"]
            let booked = try await Self.run(base, databaseURL: databaseURL)
            #expect(booked.status == 0, "\(booked.error)")
            #expect(booked.output.contains("start 2025-01-14T16:00:00Z"))
            let meeting = try #require(booked.output.split(separator: "\t").first?.split(separator: " ").last.map(String.init))
            let impossible = try await Self.run(base.map { $0 == "local_government=1" ? "community_org=1" : $0 }, databaseURL: databaseURL)
            #expect(impossible.status != 0)
            #expect(impossible.error.contains("no slot: no community_org member is invited"))
            let cancelled = try await Self.run(["meetings", "cancel", meeting, "--reason", "snow"], databaseURL: databaseURL)
            #expect(cancelled.status == 0, "\(cancelled.error)")
            #expect(cancelled.output.contains("cancelled\tsequence 1"))
        }
    }
}
