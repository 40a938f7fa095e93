/// A result column: its name and type.
public struct PostgresColumn: Hashable, Sendable {
    public let name: String
    public let dataType: PostgresDataType
}

/// The rows a statement returned, fully read (text format).
public struct PostgresRows: RandomAccessCollection, Sendable {
    final class Storage: Sendable {
        let columns: [PostgresColumn]
        let columnIndex: [String: Int]
        /// Row-major; nil is SQL NULL.
        let cells: [String?]

        init(columns: [PostgresColumn], cells: [String?]) {
            self.columns = columns
            self.cells = cells
            // The first column wins when a name repeats, as in most clients.
            self.columnIndex = Dictionary(
                columns.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let storage: Storage
    /// Rows the statement affected (INSERT/UPDATE/DELETE/COPY/SELECT row count from the tag).
    public let affectedRows: Int
    /// The command tag, e.g. `INSERT 0 3` or `COMMIT` (`ROLLBACK` for a failed transaction).
    public let commandTag: String
    public let startIndex = 0
    public let endIndex: Int

    init(columns: [PostgresColumn], cells: [String?], rowCount: Int, affectedRows: Int, commandTag: String) {
        storage = Storage(columns: columns, cells: cells)
        endIndex = rowCount
        self.affectedRows = affectedRows
        self.commandTag = commandTag
    }

    public var columns: [PostgresColumn] { storage.columns }

    public subscript(position: Int) -> PostgresRow {
        precondition(position >= startIndex && position < endIndex, "row index out of range")
        return PostgresRow(storage: storage, row: position)
    }
}
