import Foundation
import Logging
import Postgres

/// COPY FROM STDIN through our PostgreSQL layer vs `psql \copy`, same rows, same server.
struct CopyBench {
    let databaseURL: String
    let lines: [String]
    let workDirectory: URL
    let logger: Logger

    func run() async throws -> [BenchResult] {
        let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: logger)
        defer { postgres.shutdown() }
        let stamp = UUID().uuidString.prefix(8).lowercased()
        let psqlTable = "bench_copy_psql_\(stamp)"
        let oursTable = "bench_copy_ours_\(stamp)"
        // Incident-shaped rows: id, source, external id, category, occurred_at, description.
        let rows: [(Int, String, String, String, Date, String)] = lines.enumerated().map { index, line in
            (index, "bench", "ext-\(index)", "theft", Date(timeIntervalSince1970: 1_700_000_000 + Double(index)), line)
        }
        let copyFile = workDirectory.appendingPathComponent("copy.tsv")
        let formatter = ISO8601DateFormatter()
        let text = rows.map { row in
            let description = row.5.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
            return "\(row.0)\t\(row.1)\t\(row.2)\t\(row.3)\t\(formatter.string(from: row.4))\t\(description)"
        }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: copyFile)

        for table in [psqlTable, oursTable] {
            try await postgres.withConnection { connection in
                try await connection.executeScript(unsafeSQL: """
                    CREATE TABLE \(table) (id bigint, source text, external_id text, category text, occurred_at timestamptz, description text)
                    """)
            }
        }
        var psqlRates: [Double] = []
        var oursRates: [Double] = []
        let count = Double(lines.count)
        for round in 1...KafkaBench.rounds {
            say("postgres round \(round)/\(KafkaBench.rounds): psql \\copy, our COPY")
            for table in [psqlTable, oursTable] {
                try await postgres.withConnection { try await $0.executeScript(unsafeSQL: "TRUNCATE \(table)") }
            }
            psqlRates.append(count / (try await measure {
                try runCommand("psql", [databaseURL, "-q", "-v", "ON_ERROR_STOP=1", "-c", "\\copy \(psqlTable) FROM '\(copyFile.path)'"])
            }))
            oursRates.append(count / (try await measure {
                _ = try await postgres.withConnection { connection in
                    try await connection.copyIn(table: oursTable, columns: ["id", "source", "external_id", "category", "occurred_at", "description"]) { writer in
                        for row in rows { try await writer.writeRow(row.0, row.1, row.2, row.3, row.4, row.5) }
                    }
                }
            }))
        }
        let counts = try await postgres.withConnection { connection in
            try await (
                connection.query("SELECT count(*) FROM \(unsafeSQL: psqlTable)").first!.decode(0, as: Int.self),
                connection.query("SELECT count(*) FROM \(unsafeSQL: oursTable)").first!.decode(0, as: Int.self))
        }
        precondition(counts.0 == lines.count && counts.1 == lines.count, "COPY row counts differ: \(counts)")
        for table in [psqlTable, oursTable] {
            try await postgres.withConnection { try await $0.executeScript(unsafeSQL: "DROP TABLE \(table)") }
        }
        return [BenchResult(name: "PostgreSQL COPY FROM STDIN", ours: median(oursRates), reference: median(psqlRates), referenceName: "psql \\copy", unit: "rows/s")]
    }
}
