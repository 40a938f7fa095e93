/// A SQL statement whose interpolated values become bound parameters.
///
///     let rows = try await conn.query("SELECT id FROM incidents WHERE area = \(area) AND at > \(since)")
///     // sent as: SELECT id FROM incidents WHERE area = $1 AND at > $2, with two bound values
///
/// Values never become SQL text. Raw SQL needs an explicit `unsafeSQL:` — for the whole
/// statement, `PostgresQuery(unsafeSQL:)`, or for a fragment you validated, `\(unsafeSQL: …)`;
/// `\(identifier: …)` quotes a table or column name.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Segment: Sendable {
        case sql(String)
        case parameter(Int)
    }

    private(set) var segments: [Segment]
    private(set) var parameters: [any PostgresEncodable]

    /// A statement from trusted text, sent as is. Never build `sql` from untrusted input.
    public init(unsafeSQL sql: String) {
        segments = [.sql(sql)]
        parameters = []
    }

    /// A statement that already numbers its placeholders (`$1`, `$2`, …) in `sql`.
    public init(unsafeSQL sql: String, parameters: [any PostgresEncodable]) {
        segments = [.sql(sql)]
        self.parameters = parameters
    }

    /// A literal without interpolations is trusted: it is part of the source code.
    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
        parameters = stringInterpolation.parameters
    }

    /// The statement text, with `$n` placeholders for the parameters.
    public var sql: String {
        var text = ""
        for segment in segments {
            switch segment {
            case .sql(let sql): text += sql
            case .parameter(let index): text += "$\(index + 1)"
            }
        }
        return text
    }

    public var parameterCount: Int { parameters.count }

    /// The SQL with placeholders; never the parameter values.
    public var description: String { sql }

    /// Appends another query (e.g. an optional `WHERE` clause), renumbering its parameters.
    public mutating func append(_ other: PostgresQuery) {
        let offset = parameters.count
        for segment in other.segments {
            switch segment {
            case .sql: segments.append(segment)
            case .parameter(let index): segments.append(.parameter(index + offset))
            }
        }
        parameters += other.parameters
    }

    public static func + (lhs: PostgresQuery, rhs: PostgresQuery) -> PostgresQuery {
        var result = lhs
        result.append(rhs)
        return result
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var segments: [Segment] = []
        fileprivate var parameters: [any PostgresEncodable] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(interpolationCount * 2 + 1)
            parameters.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            segments.append(.sql(literal))
        }

        /// A bound parameter (`$n`).
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            parameters.append(value)
            segments.append(.parameter(parameters.count - 1))
        }

        /// An optional bound parameter: NULL when `nil`. (A separate overload so that optionals
        /// are an intended use, not something the compiler warns about.)
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            parameters.append(value)
            segments.append(.parameter(parameters.count - 1))
        }

        /// Raw SQL, inserted as is. Only for text you control or validated.
        public mutating func appendInterpolation(unsafeSQL sql: String) {
            segments.append(.sql(sql))
        }

        /// A double-quoted identifier (table, column, channel name).
        public mutating func appendInterpolation(identifier: String) {
            segments.append(.sql(PostgresQuery.quoteIdentifier(identifier)))
        }

        /// Another query, its parameters renumbered.
        public mutating func appendInterpolation(fragment: PostgresQuery) {
            let offset = parameters.count
            for segment in fragment.segments {
                switch segment {
                case .sql: segments.append(segment)
                case .parameter(let index): segments.append(.parameter(index + offset))
                }
            }
            parameters += fragment.parameters
        }
    }

    /// `"name"` with embedded quotes doubled, as PostgreSQL's quote_ident does.
    public static func quoteIdentifier(_ identifier: String) -> String {
        "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
    }

    /// Encodes the parameters for libpq, checking what the server could not accept.
    func makeParameters(file: String, line: Int) throws -> [PQParameter] {
        guard parameters.count <= Int(UInt16.max) else {
            throw PostgresError(
                code: .encoding,
                message: "a statement can have at most 65535 parameters, this one has \(parameters.count)",
                file: file, line: line)
        }
        var result: [PQParameter] = []
        result.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            let type = Swift.type(of: parameter)
            let value: PostgresEncodedValue
            do {
                value = try parameter.encodePostgresParameter()
            } catch {
                throw PostgresError(
                    code: .encoding, message: "parameter $\(index + 1) (\(type)) could not be encoded: \(error)",
                    file: file, line: line)
            }
            if case .text(let text) = value, text.utf8.contains(0) {
                throw PostgresError(
                    code: .encoding,
                    message: "parameter $\(index + 1) (\(type)) contains a NUL character, "
                        + "which PostgreSQL text cannot store",
                    file: file, line: line)
            }
            result.append(PQParameter(type: type.postgresDataType.oid, value: value))
        }
        return result
    }
}

extension String {
    /// Works on Unicode scalars, not Characters: a quote followed by a combining mark is one
    /// Character to Swift but still a quote to the server.
    fileprivate func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == target { result.append(contentsOf: replacement.unicodeScalars) } else { result.append(scalar) }
        }
        return String(result)
    }
}
