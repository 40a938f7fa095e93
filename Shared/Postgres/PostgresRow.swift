/// One row of a result. Decode columns by position or name:
///
///     let name = try row.decode(0, as: String.self)
///     let seen: Date? = try row.decode("seen_at")
///     let (id, count) = try row.decode((UUID, Int).self)
public struct PostgresRow: Sendable {
    let storage: PostgresRows.Storage
    let row: Int

    public var columns: [PostgresColumn] { storage.columns }

    /// True if the column is SQL NULL.
    public func isNull(_ column: Int) -> Bool {
        storage.cells[row * storage.columns.count + column] == nil
    }

    public func decode<T: PostgresDecodable>(
        _ column: Int, as type: T.Type = T.self, file: String = #fileID, line: Int = #line
    ) throws -> T {
        guard column >= 0, column < storage.columns.count else {
            throw PostgresError(
                code: .decoding, message: "column \(column) does not exist (the row has \(storage.columns.count))",
                file: file, line: line)
        }
        let description = storage.columns[column]
        do {
            guard let text = storage.cells[row * storage.columns.count + column] else {
                return try T.decodePostgresNull()
            }
            return try T(postgresText: text, type: description.dataType)
        } catch {
            throw PostgresError(
                code: .decoding,
                message: "column \(column) (\"\(description.name)\", \(description.dataType)) as \(T.self): \(error)",
                file: file, line: line)
        }
    }

    public func decode<T: PostgresDecodable>(
        _ column: String, as type: T.Type = T.self, file: String = #fileID, line: Int = #line
    ) throws -> T {
        guard let index = storage.columnIndex[column] else {
            throw PostgresError(code: .decoding, message: "no column named \"\(column)\"", file: file, line: line)
        }
        return try decode(index, as: type, file: file, line: line)
    }

    /// Decodes the first columns as a tuple, in order.
    public func decode<each T: PostgresDecodable>(
        _ types: (repeat each T).Type, file: String = #fileID, line: Int = #line
    ) throws -> (repeat each T) {
        var column = 0
        func next<V: PostgresDecodable>(_ type: V.Type) throws -> V {
            defer { column += 1 }
            return try decode(column, as: type, file: file, line: line)
        }
        return (repeat try next((each T).self))
    }
}
