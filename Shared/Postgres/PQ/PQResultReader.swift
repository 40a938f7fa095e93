import CLibPQ

/// Copies a `PGresult` (text format) into Swift values, so the result can be freed at once.
enum PQResultReader {
    static func rows(from result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            let index = Int32(column)
            columns.append(
                PostgresColumn(
                    name: PQfname(result, index).map { String(cString: $0) } ?? "",
                    dataType: PostgresDataType(oid: PQftype(result, index))))
        }
        var cells: [String?] = []
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(
                        start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
                    cells.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return PostgresRows(
            columns: columns, cells: cells, rowCount: rowCount,
            affectedRows: affectedRows(of: result),
            commandTag: PQcmdStatus(result).map { String(cString: $0) } ?? "")
    }

    static func affectedRows(of result: OpaquePointer) -> Int {
        PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    }
}
