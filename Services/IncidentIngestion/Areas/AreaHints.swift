import Foundation
import Postgres

/// A source's area hints: the district or neighbourhood names its records carry in
/// `area_hint`, mapped onto the coalition's areas. The normalizer uses them when an incident
/// has no coordinates or no imported area contains its point (SPEC §4.2); the store reads them
/// in each batch's transaction, so a change applies from the next batch.
public struct AreaHints: Sendable {
    public struct Hint: Sendable, Equatable {
        public var hint: String
        public var areaID: String
    }

    private let postgres: PostgresClient

    public init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    /// Replaces every hint of `source` with the rows of a CSV file whose header names the
    /// columns `hint` and `area_id`. The whole file is checked first and nothing changes when
    /// any row is refused: an unknown source, a blank or repeated hint, an area id that is not
    /// an imported area. Returns the number of hints now stored.
    @discardableResult
    public func replace(source: String, csv: Data) async throws -> Int {
        let hints = try Self.parse(csv)
        return try await postgres.withTransaction { connection in
            guard try await connection.query("SELECT 1 FROM sources WHERE id = \(source)").first != nil else {
                throw AreaHintError(.unknownSource, "no source \(source)")
            }
            let areaIDs = Array(Set(hints.map(\.areaID)))
            let known = Set(try await connection.query("SELECT id FROM areas WHERE id = ANY(\(areaIDs)::text[])").map { try $0.decode(0, as: String.self) })
            let unknown = areaIDs.filter { !known.contains($0) }.sorted()
            guard unknown.isEmpty else {
                throw AreaHintError(.unknownArea, "not imported areas (coalition areas import): \(unknown.joined(separator: ", "))")
            }
            try await connection.execute("DELETE FROM area_hints WHERE source_id = \(source)")
            try await connection.execute("""
                INSERT INTO area_hints (source_id, hint, area_id)
                SELECT \(source), hint, area_id FROM unnest(\(hints.map(\.hint))::text[], \(hints.map(\.areaID))::text[]) AS h (hint, area_id)
                """)
            return hints.count
        }
    }

    /// The hints of `source`, by hint.
    public func list(source: String) async throws -> [Hint] {
        try await postgres.query("SELECT hint, area_id FROM area_hints WHERE source_id = \(source) ORDER BY hint").map { row in
            let (hint, areaID) = try row.decode((String, String).self)
            return Hint(hint: hint, areaID: areaID)
        }
    }

    static func parse(_ csv: Data) throws -> [Hint] {
        let reader: CSVReader
        do { reader = try CSVReader(data: csv) } catch { throw AreaHintError(.invalidFile, "\(error)") }
        guard reader.header?.contains("hint") == true, reader.header?.contains("area_id") == true else {
            throw AreaHintError(.invalidFile, "the header must name the columns hint and area_id")
        }
        var hints: [Hint] = []
        var lines: [String: Int] = [:]
        while true {
            let row: CSVRow?
            do { row = try reader.nextRecord() } catch { throw AreaHintError(.invalidFile, "\(error)") }
            guard let row else { break }
            let hint = row["hint"] ?? "", areaID = row["area_id"] ?? ""
            guard !hint.allSatisfy(\.isWhitespace), !areaID.allSatisfy(\.isWhitespace) else {
                throw AreaHintError(.invalidFile, "line \(row.line): hint and area_id must not be blank")
            }
            if let earlier = lines[hint] {
                throw AreaHintError(.invalidFile, "line \(row.line): the hint \"\(hint)\" is already mapped on line \(earlier)")
            }
            lines[hint] = row.line
            hints.append(Hint(hint: hint, areaID: areaID))
        }
        return hints
    }
}

/// Why a file of area hints was refused.
public struct AreaHintError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let raw: String
        /// Not CSV, no `hint` / `area_id` columns, a blank or repeated hint.
        public static let invalidFile = Code(raw: "invalid_file")
        public static let unknownSource = Code(raw: "unknown_source")
        /// An `area_id` that `coalition areas import` has not imported.
        public static let unknownArea = Code(raw: "unknown_area")
        public var description: String { raw }
    }

    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
