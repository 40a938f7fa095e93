/// Why a CSV file could not be read. `description` names the line, never a field's contents.
struct CSVError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The file could not be opened or read.
        static let io = Code(raw: "io")
        /// End of file inside a quoted field.
        static let unterminatedQuote = Code(raw: "unterminated_quote")
        /// Something other than a delimiter or line break after a closing quote (`"ab"c`).
        static let characterAfterQuote = Code(raw: "character_after_quote")
        /// A field is not valid UTF-8.
        static let invalidUTF8 = Code(raw: "invalid_utf8")
        /// The file has no header line.
        static let missingHeader = Code(raw: "missing_header")
        /// Two header columns share a name, so lookups by name would be ambiguous.
        static let duplicateColumn = Code(raw: "duplicate_column")
        /// A record has more or fewer fields than the header. The reader stays usable.
        static let fieldCountMismatch = Code(raw: "field_count_mismatch")
        var description: String { raw }
    }

    var code: Code
    var message: String
    /// The physical line (1-based) where the offending record starts, when known.
    var line: Int?
    var file: String
    var sourceLine: Int

    init(_ code: Code, _ message: String, line: Int? = nil, file: String = #fileID, sourceLine: Int = #line) {
        self.code = code
        self.message = message
        self.line = line
        self.file = file
        self.sourceLine = sourceLine
    }

    /// Whether reading can go on with the next record (the parser did not lose its place).
    var isRecoverable: Bool { code == .fieldCountMismatch }

    var description: String {
        if let line { return "CSVError.\(code) at line \(line): \(message)" }
        return "CSVError.\(code): \(message)"
    }
}
