import Foundation
import Postgres
import TestSupport
import Testing

/// Values through a real server and back: what goes in as data stays data, every type survives.
@Suite struct PostgresRoundTripTests {
    static let hostileStrings = [
        "'; DROP TABLE people; --",
        "Robert'); DROP TABLE people;--",
        "\" OR \"1\"=\"1",
        "back\\slash \\' \\\\ \\x00",
        "$1 $2 $$ dollar $$ quoting",
        "tab\tnew\nline\rcarriage",
        "percent % underscore _ ; semicolon",
        "日本語 ünïcødé 🚨 \u{301}\"combining",
        "",
        "NULL",
        String(repeating: "long ", count: 2_000),
    ]

    @Test func injectionStringsStayData() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { client in
                try await client.execute("CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL)")
                for name in Self.hostileStrings {
                    try await client.execute("INSERT INTO people (name) VALUES (\(name))")
                }
                let names = try await client.query("SELECT name FROM people ORDER BY id").map {
                    try $0.decode(0, as: String.self)
                }
                #expect(names == Self.hostileStrings)

                // Every hostile string matches exactly itself when used in a WHERE clause.
                for name in Self.hostileStrings {
                    let count = try await client.query("SELECT count(*) FROM people WHERE name = \(name)")[0]
                        .decode(0, as: Int.self)
                    #expect(count == 1)
                }
                // The same strings as identifiers only ever name a (quoted) table.
                let table = "people\"; DROP TABLE people; --"
                try await client.execute("CREATE TABLE \(identifier: table) (v text)")
                try await client.execute("INSERT INTO \(identifier: table) VALUES (\(table))")
                #expect(
                    try await client.query("SELECT v FROM \(identifier: table)")[0].decode(0, as: String.self) == table)

                let exists = try await client.query("SELECT to_regclass('public.people') IS NOT NULL")[0]
                    .decode(0, as: Bool.self)
                #expect(exists)
                #expect(
                    try await client.query("SELECT count(*) FROM people")[0].decode(0, as: Int.self)
                        == Self.hostileStrings.count)
            }
        }
    }

    struct Payload: Codable, Equatable {
        var title: String
        var tags: [String]
        var severity: Int
    }

    @Test func everySupportedTypeRoundTrips() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url) { client in
                try await client.execute(
                    """
                    CREATE TABLE everything (
                        id int PRIMARY KEY, s text, i bigint, i64 bigint, i32 int, i16 smallint, d float8, b bool,
                        at timestamptz, u uuid, bytes bytea, data bytea, texts text[], ints bigint[], int64s bigint[],
                        uuids uuid[], nullable_texts text[], doc jsonb
                    )
                    """)
                let at = Date(timeIntervalSince1970: 1_700_000_000.123456)
                let uuid = UUID()
                let allBytes = (0...255).map { UInt8($0) }
                let texts = ["a", "b,c", "d\"e", "f\\g", "{h}", "NULL", "", "ünï", " spaced "]
                let payload = Payload(title: "Flood \"warning\"", tags: ["water", "north"], severity: 3)

                try await client.execute(
                    """
                    INSERT INTO everything VALUES (
                        1, \("text ' \" \\"), \(Int.max), \(Int64.min), \(Int32.min), \(Int16.max), \(-1.5e-300), \(true),
                        \(at), \(uuid), \(allBytes), \(Data(allBytes.reversed())), \(texts), \([1, -2, Int.max]),
                        \([Int64.min]), \([uuid, UUID()]), \(["x", nil, "NULL"] as [String?]), \(PostgresJSON(payload))
                    )
                    """)
                let noText: String? = nil
                let noInt: Int? = nil
                let noDate: Date? = nil
                let noUUID: UUID? = nil
                let noBytes: [UInt8]? = nil
                let noTexts: [String]? = nil
                let noJSON: PostgresJSON<Payload>? = nil
                try await client.execute(
                    """
                    INSERT INTO everything (id, s, i, at, u, bytes, texts, doc)
                    VALUES (2, \(noText), \(noInt), \(noDate), \(noUUID), \(noBytes), \(noTexts), \(noJSON))
                    """)

                let rows = try await client.query("SELECT * FROM everything ORDER BY id")
                #expect(rows.count == 2)
                let row = rows[0]
                #expect(try row.decode("s", as: String.self) == "text ' \" \\")
                #expect(try row.decode("i", as: Int.self) == Int.max)
                #expect(try row.decode("i64", as: Int64.self) == Int64.min)
                #expect(try row.decode("i32", as: Int32.self) == Int32.min)
                #expect(try row.decode("i16", as: Int16.self) == Int16.max)
                #expect(try row.decode("d", as: Double.self) == -1.5e-300)
                #expect(try row.decode("b", as: Bool.self))
                let decodedAt = try row.decode("at", as: Date.self)
                #expect(abs(decodedAt.timeIntervalSince(at)) < 0.000_001)
                #expect(try row.decode("u", as: UUID.self) == uuid)
                #expect(try row.decode("bytes", as: [UInt8].self) == allBytes)
                #expect(try row.decode("data", as: Data.self) == Data(allBytes.reversed()))
                #expect(try row.decode("texts", as: [String].self) == texts)
                #expect(try row.decode("ints", as: [Int].self) == [1, -2, Int.max])
                #expect(try row.decode("int64s", as: [Int64].self) == [Int64.min])
                #expect(try row.decode("uuids", as: [UUID].self).first == uuid)
                #expect(try row.decode("nullable_texts", as: [String?].self) == ["x", nil, "NULL"])
                #expect(try row.decode("doc", as: PostgresJSON<Payload>.self).value == payload)
                let (id, s) = try row.decode((Int, String).self)
                #expect(id == 1 && s == "text ' \" \\")

                let nulls = rows[1]
                #expect(nulls.isNull(1))
                #expect(try nulls.decode("s", as: String?.self) == nil)
                #expect(try nulls.decode("i", as: Int?.self) == nil)
                #expect(try nulls.decode("at", as: Date?.self) == nil)
                #expect(try nulls.decode("u", as: UUID?.self) == nil)
                #expect(try nulls.decode("bytes", as: [UInt8]?.self) == nil)
                #expect(try nulls.decode("texts", as: [String]?.self) == nil)
                #expect(try nulls.decode("doc", as: PostgresJSON<Payload>?.self) == nil)
                let missing = try #require(throws: PostgresError.self) { try nulls.decode("s", as: String.self) }
                #expect(missing.code == .decoding)

                // Server-side checks that the values arrived as the intended types, not as text.
                let checks = try await client.query(
                    """
                    SELECT octet_length(bytes), get_byte(bytes, 255), at = '2023-11-14 22:13:20.123456+00',
                           array_length(texts, 1), texts[3], doc->>'title', pg_typeof(\(Int16(1)))::text
                    FROM everything WHERE id = 1
                    """)[0]
                #expect(try checks.decode(0, as: Int.self) == 256)
                #expect(try checks.decode(1, as: Int.self) == 255)
                #expect(try checks.decode(2, as: Bool.self))
                #expect(try checks.decode(3, as: Int.self) == texts.count)
                #expect(try checks.decode(4, as: String.self) == "d\"e")
                #expect(try checks.decode(5, as: String.self) == payload.title)
                #expect(try checks.decode(6, as: String.self) == "smallint")
            }
        }
    }

    @Test func scalarsRoundTripThroughSelect() async throws {
        try await withTemporaryDatabase { url in
            try await withClient(url: url, maxConnections: 1) { client in
                func echo<T: PostgresEncodable & PostgresDecodable & Equatable>(_ value: T) async throws {
                    let decoded = try await client.query("SELECT \(value)")[0].decode(0, as: T.self)
                    #expect(decoded == value, "\(T.self)")
                }
                for value in [0.0, -0.0, 1.0 / 3.0, .pi, 1e308, .leastNonzeroMagnitude, .infinity, -.infinity] {
                    try await echo(value)
                }
                let nan = try await client.query("SELECT \(Double.nan)")[0].decode(0, as: Double.self)
                #expect(nan.isNaN)
                for value in [Int.min, -1, 0, Int.max] { try await echo(value) }
                try await echo(false)
                try await echo(["", "a b", "\\\""])
                try await echo([Int64.max, Int64.min])
                try await echo([UInt8]())
                try await echo(Data())
                // Dates at microsecond precision, including before 1970 and with a leap day.
                for micros: Int64 in [0, -1, 951_782_400_000_001, 1_700_000_000_999_999, -2_208_988_800_000_000] {
                    let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
                    let decoded = try await client.query("SELECT \(date)")[0].decode(0, as: Date.self)
                    #expect(abs(decoded.timeIntervalSince(date)) < 0.000_001, "\(micros)")
                }
                // Non-UTC session time zones still decode to the same instant.
                try await client.withConnection { connection in
                    try await connection.execute("SET TIME ZONE 'Asia/Kolkata'")
                    let date = Date(timeIntervalSince1970: 1_700_000_000.25)
                    let row = try await connection.query("SELECT \(date), \(date)::text")[0]
                    #expect(try row.decode(1, as: String.self).hasSuffix("+05:30"))
                    #expect(abs(try row.decode(0, as: Date.self).timeIntervalSince(date)) < 0.000_001)
                    try await connection.execute("RESET TIME ZONE")
                }
            }
        }
    }
}
