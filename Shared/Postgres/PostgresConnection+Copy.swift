extension PostgresConnection {
    /// Bulk-loads rows with `COPY table (columns) FROM STDIN` (text format) and returns the
    /// number of rows copied.
    ///
    ///     try await conn.copyIn(table: "incidents", columns: ["id", "title"]) { writer in
    ///         for incident in incidents { try await writer.writeRow(incident.id, incident.title) }
    ///     }
    ///
    /// Rows are buffered and sent in large chunks. If `writeRows` throws, the COPY is aborted
    /// and nothing is inserted.
    @discardableResult
    public func copyIn(
        isolation: isolated (any Actor)? = #isolation,
        schema: String? = nil,
        table: String,
        columns: [String],
        file: String = #fileID,
        line: Int = #line,
        _ writeRows: (PostgresCopyWriter) async throws -> Void
    ) async throws -> Int {
        var sql = "COPY "
        if let schema { sql += PostgresQuery.quoteIdentifier(schema) + "." }
        sql += PostgresQuery.quoteIdentifier(table)
        if !columns.isEmpty { sql += " (" + columns.map(PostgresQuery.quoteIdentifier).joined(separator: ", ") + ")" }
        sql += " FROM STDIN"
        guard !sql.utf8.contains(0) else {
            throw PostgresError(
                code: .encoding, message: "a table or column name contains a NUL character", file: file, line: line)
        }
        let statement = sql
        try await run { pq in try pq.beginCopyIn(statement, file: file, line: line) }
        let writer = PostgresCopyWriter(connection: self, columnCount: columns.count, file: file, line: line)
        do {
            try await writeRows(writer)
            try await writer.flush()
        } catch {
            _ = try? await run(cancellable: false) { pq in
                try pq.finishCopy(failure: "COPY aborted by the client", file: file, line: line)
            }
            throw error
        }
        return try await run { pq in try pq.finishCopy(failure: nil, file: file, line: line) }
    }

    /// Bulk-loads `rows` (one array of column values per row) with `COPY … FROM STDIN`.
    @discardableResult
    public func copyIn<Rows: Sequence>(
        isolation: isolated (any Actor)? = #isolation,
        schema: String? = nil,
        table: String,
        columns: [String],
        rows: Rows,
        file: String = #fileID,
        line: Int = #line
    ) async throws -> Int where Rows.Element == [any PostgresEncodable] {
        try await copyIn(schema: schema, table: table, columns: columns, file: file, line: line) { writer in
            for row in rows { try await writer.writeRow(contentsOf: row) }
        }
    }
}
