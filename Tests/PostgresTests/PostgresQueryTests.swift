import Foundation
import Testing

@testable import Postgres

/// Encoding and decoding that needs no server.
@Suite struct PostgresQueryTests {
    @Test func interpolationsBecomeNumberedParameters() throws {
        let name = "'; DROP TABLE x; --"
        let limit = 10
        var query: PostgresQuery = "SELECT * FROM \(identifier: "my \"table\"") WHERE name = \(name) LIMIT \(limit)"
        query.append(" OFFSET \(5)")
        #expect(query.sql == #"SELECT * FROM "my ""table""" WHERE name = $1 LIMIT $2 OFFSET $3"#)
        #expect(query.parameterCount == 3)
        #expect(!query.description.contains("DROP"))
        let parameters = try query.makeParameters(file: #fileID, line: #line)
        #expect(parameters.map(\.value) == [.text(name), .text("10"), .text("5")])
        #expect(parameters.map(\.type) == [0, 20, 20])
    }

    @Test func fragmentsAreRenumbered() {
        let filter: PostgresQuery = "area = \("north") AND kind = \("flood")"
        let query: PostgresQuery = "SELECT 1 WHERE id = \(7) AND \(fragment: filter)"
        #expect(query.sql == "SELECT 1 WHERE id = $1 AND area = $2 AND kind = $3")
    }

    @Test func unsafeSQLIsExplicit() {
        let query = PostgresQuery(unsafeSQL: "SELECT 1")
        #expect(query.sql == "SELECT 1")
        let column = "created_at"
        let ordered: PostgresQuery = "SELECT * FROM t ORDER BY \(unsafeSQL: column)"
        #expect(ordered.sql == "SELECT * FROM t ORDER BY created_at")
    }

    @Test func identifierQuotingCannotBeDefeatedByCombiningMarks() {
        // `"` followed by U+0301 is a single Character in Swift but still a quote on the wire.
        let quoted = PostgresQuery.quoteIdentifier("a\"\u{301}b")
        #expect(quoted == "\"a\"\"\u{301}b\"")
    }

    @Test func textWithNULIsRejected() {
        let query: PostgresQuery = "SELECT \("a\u{0}b")"
        #expect(throws: PostgresError.self) { try query.makeParameters(file: #fileID, line: #line) }
    }

    @Test func arrayLiteralsEscapeEverything() throws {
        let values = ["plain", "with,comma", "with \"quote\"", "back\\slash", "{braces}", "NULL", "", "ünï"]
        let encoded = try values.encodePostgres()
        #expect(
            encoded
                == .text(#"{"plain","with,comma","with \"quote\"","back\\slash","{braces}","NULL","","ünï"}"#))
        guard case .text(let literal) = encoded else { return }
        #expect(try [String](postgresText: literal, type: .textArray) == values)
        #expect(try [String?](postgresText: #"{a,NULL,"NULL",null}"#, type: .textArray) == ["a", nil, "NULL", nil])
        #expect(try [Int](postgresText: "{1,-2,3}", type: .int8Array) == [1, -2, 3])
        #expect(try [Int](postgresText: "[0:1]={4,5}", type: .int8Array) == [4, 5])
        #expect(try [Int](postgresText: "{}", type: .int8Array) == [])
        #expect(throws: PostgresError.self) { _ = try decodeColumn("{{1,2},{3,4}}", as: [Int].self) }
        #expect(throws: PostgresError.self) { _ = try decodeColumn("{1,NULL}", as: [Int].self) }
    }

    @Test func byteaUsesBinaryParametersAndHexText() throws {
        let bytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF]
        #expect(try bytes.encodePostgres() == .binary(bytes))
        #expect(try [UInt8](postgresText: "\\x00017f80ff", type: .bytea) == bytes)
        #expect(try Data(postgresText: "\\x00017F80FF", type: .bytea) == Data(bytes))
        #expect(PostgresBytea.hex(bytes) == "\\x00017f80ff")
        #expect(throws: PostgresDecodingError.self) { try [UInt8](postgresText: "abc", type: .bytea) }
    }

    @Test func timestampsFormatAsRFC3339UTCWithMicroseconds() throws {
        let date = PostgresTimestamp.date(microsecondsSince1970: 1_700_000_000_123_456)
        #expect(PostgresTimestamp.format(date) == "2023-11-14T22:13:20.123456Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(
            PostgresTimestamp.format(PostgresTimestamp.date(microsecondsSince1970: -1))
                == "1969-12-31T23:59:59.999999Z")
    }

    @Test(arguments: [
        ("2023-11-14 22:13:20.123456+00", Int64(1_700_000_000_123_456)),
        ("2023-11-14 22:13:20+00", 1_700_000_000_000_000),
        ("2023-11-14 22:13:20.5+00", 1_700_000_000_500_000),
        ("2023-11-15 03:43:20.123456+05:30", 1_700_000_000_123_456),
        ("2023-11-14 14:13:20-08", 1_700_000_000_000_000),
        ("2023-11-14T22:13:20.123456Z", 1_700_000_000_123_456),
        ("2023-11-14 22:13:20.123456", 1_700_000_000_123_456),
        ("2023-11-14", 1_699_920_000_000_000),
        ("1969-12-31 23:59:59.999999+00", -1),
        ("1901-12-13 20:45:52+00:53:28", -2_147_486_856_000_000),
    ])
    func timestampsParseServerOutput(text: String, micros: Int64) throws {
        let date = try #require(PostgresTimestamp.parse(text))
        #expect(PostgresTimestamp.microsecondsSince1970(date) == micros)
    }

    @Test func timestampsRejectGarbage() {
        for text in ["", "2023", "2023-13-01", "2023-11-14 25", "2023-11-14 22:13:20+", "yesterday"] {
            #expect(PostgresTimestamp.parse(text) == nil, "\(text)")
        }
        #expect(PostgresTimestamp.parse("infinity") == .distantFuture)
    }

    @Test func calendarConversionRoundTrips() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (year, month, day) = PostgresTimestamp.civil(fromDays: days)
            #expect(PostgresTimestamp.days(fromCivil: year, month: month, day: day) == days)
        }
    }

    @Test func copyTextEscapesControlCharacters() {
        var buffer: [UInt8] = []
        #expect(PostgresCopyText.append(.text("a\tb\nc\rd\\e\\N"), to: &buffer))
        #expect(String(decoding: buffer, as: UTF8.self) == #"a\tb\nc\rd\\e\\N"#)
        buffer = []
        #expect(PostgresCopyText.append(.null, to: &buffer))
        #expect(PostgresCopyText.append(.binary([0xAB, 0x01]), to: &buffer))
        #expect(String(decoding: buffer, as: UTF8.self) == #"\N\\xab01"#)
        #expect(!PostgresCopyText.append(.text("nul\u{0}"), to: &buffer))
    }

    @Test func scalarsEncodeAsPostgresTextInput() throws {
        #expect(Double.nan.encodePostgres() == .text("NaN"))
        #expect((-Double.infinity).encodePostgres() == .text("-Infinity"))
        #expect(0.1.encodePostgres() == .text("0.1"))
        #expect(true.encodePostgres() == .text("t"))
        #expect(try (nil as Int?).encodePostgres() == .null)
        #expect(Int64.min.encodePostgres() == .text("-9223372036854775808"))
        let uuid = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
        #expect(uuid.encodePostgres() == .text("e621e1f8-c36c-495a-93fc-0c247a3e6e5f"))
        #expect(try PostgresJSON(["k": 1]).encodePostgres() == .text(#"{"k":1}"#))
        #expect([String?].postgresDataType == .textArray)
    }

    @Test func decodingErrorsNameTheColumnButNotTheValue() throws {
        let error = try #require(throws: PostgresError.self) { try decodeColumn("secret-value", as: Int.self) }
        #expect(error.code == .decoding)
        #expect(error.description.contains("\"value\""))
        #expect(!error.description.contains("secret-value"))
    }

    @Test func errorDescriptionsRedactDataExceptionValues() {
        let error = PostgresError(
            code: .server, message: #"invalid input syntax for type integer: "hunter2""#, sqlState: "22P02",
            detail: "Key (password)=(hunter2) already exists.")
        #expect(!error.description.contains("hunter2"))
        #expect(error.description.contains("22P02"))
        let other = PostgresError(code: .server, message: #"relation "incidents" does not exist"#, sqlState: "42P01")
        #expect(other.description.contains("\"incidents\""))
    }

    @Test func retriableErrors() {
        #expect(PostgresError(code: .connectionLost, message: "").isRetriable)
        #expect(PostgresError(code: .connectionFailed, message: "").isRetriable)
        for state in ["40001", "40P01", "57P01", "08006", "08001"] {
            #expect(PostgresError(code: .server, message: "", sqlState: state).isRetriable, "\(state)")
        }
        for state in ["23505", "42P01", "22P02", "57014"] {
            #expect(!PostgresError(code: .server, message: "", sqlState: state).isRetriable, "\(state)")
        }
        #expect(!PostgresError(code: .poolClosed, message: "").isRetriable)
    }

    @Test func configurationNeverPrintsTheConnectionString() throws {
        let configuration = PostgresClient.Configuration(connectionString: "postgresql://u:hunter2@db/x")
        #expect(!configuration.description.contains("hunter2"))
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(throws: PostgresError.self) {
            try PostgresClient(
                configuration: .init(connectionString: "nonsense_keyword=1"), logger: .init(label: "test"))
        }
    }

    private func decodeColumn<T: PostgresDecodable>(_ text: String, as type: T.Type) throws -> T {
        let rows = PostgresRows(
            columns: [PostgresColumn(name: "value", dataType: .text)], cells: [text], rowCount: 1, affectedRows: 1,
            commandTag: "SELECT 1")
        return try rows[0].decode(0, as: type)
    }
}

/// The wait before a transaction that lost a conflict runs again.
@Suite struct TransactionBackoffTests {
    @Test("the backoff grows with each attempt, stays random within its ceiling, and never passes 500 ms")
    func backoffGrowsAndIsCapped() {
        let ceilings = [1: 5, 2: 10, 3: 20, 4: 40, 5: 80, 6: 160, 7: 320, 8: 500, 20: 500]
        for (attempt, ceiling) in ceilings {
            let waits = (0..<200).map { _ in PostgresConnection.conflictBackoff(afterAttempt: attempt) }
            #expect(waits.allSatisfy { $0 >= .milliseconds(1) && $0 <= .milliseconds(ceiling) }, "attempt \(attempt)")
            if ceiling >= 40 { #expect(Set(waits).count > 1, "attempt \(attempt) waits are jittered") }
        }
    }
}
