/// The column names of a CSV file, with lookup by name.
struct CSVHeader: Sendable, Hashable {
    let names: [String]
    private let positions: [String: Int]

    /// Rejects duplicate names: a lookup by name must be unambiguous.
    init(_ names: [String], line: Int = 1) throws(CSVError) {
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() {
            if let earlier = positions[name] {
                throw CSVError(
                    .duplicateColumn, "columns \(earlier + 1) and \(index + 1) are both named \"\(name)\"", line: line)
            }
            positions[name] = index
        }
        self.names = names
        self.positions = positions
    }

    var count: Int { names.count }

    func index(of column: String) -> Int? { positions[column] }

    func contains(_ column: String) -> Bool { positions[column] != nil }
}

/// One record of a CSV file with a header: fields by position or by column name.
struct CSVRow: Sendable {
    let header: CSVHeader
    let fields: [String]
    /// The physical line (1-based) where the record starts.
    let line: Int

    /// The field under `column`, or `nil` when the file has no such column.
    subscript(column: String) -> String? {
        header.index(of: column).map { fields[$0] }
    }

    /// Column name → field, the shape `CSVMapping.record(from:)` takes.
    var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: zip(header.names, fields))
    }
}
