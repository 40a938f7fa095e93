import Foundation
import Postgres
import TestSupport
import Testing

@Suite struct PostgresCopyTests {
    static func label(_ n: Int) -> String {
        switch n % 5 {
        case 0: return "row \(n)"
        case 1: return "tab\there \(n)"
        case 2: return "line\nbreak\r\n\\N \(n)"
        case 3: return "back\\slash \\\\ \\t \(n) ünï 🚨"
        default: return "\\."
        }
    }

    @Test func copiesOneHundredThousandRows() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { client in
                try await client.execute(
                    "CREATE TABLE bulk (id bigint PRIMARY KEY, label text NOT NULL, note text, at timestamptz, payload bytea, tags text[])"
                )
                let base = Date(timeIntervalSince1970: 1_700_000_000)
                let count = 100_000
                let started = ContinuousClock.now
                let copied = try await client.withConnection { connection in
                    try await connection.copyIn(
                        table: "bulk", columns: ["id", "label", "note", "at", "payload", "tags"]
                    ) {
                        writer in
                        for n in 0..<count {
                            let note: String? = n % 7 == 0 ? nil : "note \(n)"
                            let payload: [UInt8]? = n % 3 == 0 ? [UInt8(n % 256), 0, 0x5C, 0x09] : nil
                            try await writer.writeRow(
                                n, Self.label(n), note, base.addingTimeInterval(Double(n) / 1000), payload,
                                n % 11 == 0 ? ["a\tb", "c,d", "NULL"] : [String]())
                        }
                    }
                }
                let elapsed = started.duration(to: .now)
                #expect(copied == count)
                #expect(elapsed < .seconds(60), "COPY of \(count) rows took \(elapsed)")

                #expect(try await client.query("SELECT count(*) FROM bulk")[0].decode(0, as: Int.self) == count)
                #expect(
                    try await client.query("SELECT count(*) FROM bulk WHERE note IS NULL")[0].decode(0, as: Int.self)
                        == (count + 6) / 7)
                for n in [0, 1, 2, 3, 4, 21, 33, 99_999] {
                    let row = try await client.query("SELECT label, note, at, payload, tags FROM bulk WHERE id = \(n)")[
                        0]
                    #expect(try row.decode(0, as: String.self) == Self.label(n))
                    #expect(try row.decode(1, as: String?.self) == (n % 7 == 0 ? nil : "note \(n)"))
                    let at = try row.decode(2, as: Date.self)
                    #expect(abs(at.timeIntervalSince(base.addingTimeInterval(Double(n) / 1000))) < 0.000_001)
                    #expect(
                        try row.decode(3, as: [UInt8]?.self) == (n % 3 == 0 ? [UInt8(n % 256), 0, 0x5C, 0x09] : nil))
                    #expect(try row.decode(4, as: [String].self) == (n % 11 == 0 ? ["a\tb", "c,d", "NULL"] : []))
                }
            }
        }
    }

    @Test func failedCopyInsertsNothingAndKeepsTheConnectionUsable() async throws {
        struct Stop: Error {}
        try await withTemporaryDatabase { url in
            try await withClient(url: url, maxConnections: 1) { client in
                try await client.execute("CREATE TABLE small (id int PRIMARY KEY, label text)")
                try await client.withConnection { connection in
                    await #expect(throws: Stop.self) {
                        try await connection.copyIn(table: "small", columns: ["id", "label"]) { writer in
                            try await writer.writeRow(1, "one")
                            throw Stop()
                        }
                    }
                    // A duplicate key: the server rejects the COPY as a whole.
                    let error = await #expect(throws: PostgresError.self) {
                        try await connection.copyIn(
                            table: "small", columns: ["id", "label"], rows: [[1, "a"], [1, "b"]])
                    }
                    #expect(error?.sqlState == "23505")
                    let wrongWidth = await #expect(throws: PostgresError.self) {
                        try await connection.copyIn(table: "small", columns: ["id", "label"], rows: [[1]])
                    }
                    #expect(wrongWidth?.code == .encoding)
                    #expect(try await connection.query("SELECT count(*) FROM small")[0].decode(0, as: Int.self) == 0)
                    let copied = try await connection.copyIn(
                        table: "small", columns: ["id", "label"], rows: [[1, "a"], [2, nil as String?]])
                    #expect(copied == 2)
                }
            }
        }
    }
}
