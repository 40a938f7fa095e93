import Foundation
import Postgres
import Testing
import TestSupport

/// Array parameters go to the server in binary format; what it stores is what the text form
/// stored, for every element type, NULLs, empty arrays and the edges of each type.
@Suite("Binary array parameters")
struct PostgresBinaryArrayTests {
    @Test("arrays of binary-capable elements are bound in binary, others and COPY keep the text form")
    func formats() throws {
        func isBinary(_ value: some PostgresEncodable) throws -> Bool {
            if case .binary = try value.encodePostgresParameter() { return true }
            return false
        }
        #expect(try isBinary([1, 2, 3]))
        #expect(try isBinary([Int64.min]))
        #expect(try isBinary([Int32(1)]))
        #expect(try isBinary([Int16(1)]))
        #expect(try isBinary([1.5]))
        #expect(try isBinary([true]))
        #expect(try isBinary([UUID()]))
        #expect(try isBinary([Date()]))
        #expect(try isBinary(["a"]))
        #expect(try isBinary(["a", nil] as [String?]))
        #expect(try isBinary([nil, 2] as [Int?]))
        #expect(try isBinary([Date?.none]))
        if case .text = try [1, 2].encodePostgres() {} else { Issue.record("encodePostgres (COPY, literals) stays text") }
        #expect(throws: (any Error).self) { try ["a\u{0}b"].encodePostgresParameter() }
    }

    @Test("the server stores the same values as from the text form")
    func roundTrip() async throws {
        try await withTemporaryDatabase { url in
            let client = try PostgresClient(configuration: .init(connectionString: url, maxConnections: 1), logger: TestEnvironment.logger)
            defer { client.shutdown() }
            let dates = [Date(timeIntervalSince1970: 1_700_000_000.123456), Date(timeIntervalSince1970: -2_208_988_800.5), Date(timeIntervalSince1970: 253_402_300_799)]
            let uuids = [UUID(), UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!]
            let texts = ["a", "b,c", "d\"e", "f\\g", "{h}", "NULL", "", "ünï 🐕", " spaced ", String(repeating: "x", count: 10_000)]
            let ints = [0, 1, -1, Int.max, Int.min]
            let doubles = [0.0, -0.0, 1.5e-300, -1e308, .infinity, 0.1]
            let rows = try await client.query("""
                SELECT \(ints)::bigint[]::text, \(ints.map(Int64.init))::bigint[]::text, \([Int32.min, 0, Int32.max])::int[]::text,
                       \([Int16.min, 7, Int16.max])::smallint[]::text, \(doubles)::float8[]::text, \([true, false])::bool[]::text,
                       \(uuids)::uuid[]::text, \(dates)::timestamptz[]::text, \(texts)::text[]::text,
                       \(["x", nil, "NULL"] as [String?])::text[]::text, \([nil, 5] as [Int?])::bigint[]::text, \([Date?.none])::timestamptz[]::text,
                       \([Int]())::bigint[]::text, \([String]())::text[]::text, \([UUID]())::uuid[] = '{}'
                """)
            let row = try #require(rows.first)
            let text = { (index: Int) throws -> String in try row.decode(index, as: String.self) }
            #expect(try text(0) == "{0,1,-1,9223372036854775807,-9223372036854775808}")
            #expect(try text(1) == text(0))
            #expect(try text(2) == "{-2147483648,0,2147483647}")
            #expect(try text(3) == "{-32768,7,32767}")
            #expect(try text(4) == "{0,-0,1.5e-300,-1e+308,Infinity,0.1}")
            #expect(try text(5) == "{t,f}")
            #expect(try row.decode(6, as: String.self).lowercased() == "{" + uuids.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}")
            #expect(try row.decode(9, as: String.self) == "{x,NULL,\"NULL\"}")
            #expect(try text(10) == "{NULL,5}")
            #expect(try text(11) == "{NULL}")
            #expect(try text(12) == "{}" && text(13) == "{}")
            #expect(try row.decode(14, as: Bool.self))
            // Texts and dates decoded back through the client's own array parsing.
            let back = try await client.query("SELECT \(texts)::text[], \(dates)::timestamptz[]").first!
            #expect(try back.decode(0, as: [String].self) == texts)
            for (decoded, original) in zip(try back.decode(1, as: [Date].self), dates) {
                #expect(abs(decoded.timeIntervalSince(original)) < 0.000_001)
            }
        }
    }
}
