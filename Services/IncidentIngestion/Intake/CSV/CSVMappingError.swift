/// Why a CSV mapping file cannot be used. `path` points into the JSON (`fields.occurred_at.format`).
struct CSVMappingError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        /// The file could not be read.
        static let io = Code(raw: "io")
        /// Not JSON, or not a JSON object.
        static let invalidJSON = Code(raw: "invalid_json")
        /// A key the format does not define (usually a typo).
        static let unknownKey = Code(raw: "unknown_key")
        /// A required key is absent.
        static let missingKey = Code(raw: "missing_key")
        /// A value of the wrong type or out of range (time zone, date pattern, delimiter…).
        static let invalidValue = Code(raw: "invalid_value")
        /// The CSV file lacks columns the mapping names.
        static let missingColumns = Code(raw: "missing_columns")
        var description: String { raw }
    }

    var code: Code
    var message: String
    var path: String?
    var file: String
    var line: Int

    init(_ code: Code, _ message: String, path: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.path = path
        self.file = file
        self.line = line
    }

    var description: String {
        if let path { return "CSVMappingError.\(code) at \(path): \(message)" }
        return "CSVMappingError.\(code): \(message)"
    }
}
