/// Writes rows into a running `COPY … FROM STDIN` (see `PostgresConnection.copyIn`).
///
/// Fields are escaped for COPY's text format (backslash, tab, newline and carriage return get a
/// backslash; NULL is `\N`; bytea is sent as hex) into a buffer that goes to the server in
/// 256 KiB chunks.
public final class PostgresCopyWriter {
    static let flushThreshold = 256 * 1024

    private let connection: PostgresConnection
    private let columnCount: Int
    private let file: String
    private let line: Int
    private var buffer: [UInt8] = []
    /// Rows written so far (including rows still buffered).
    public private(set) var rowCount = 0

    init(connection: PostgresConnection, columnCount: Int, file: String, line: Int) {
        self.connection = connection
        self.columnCount = columnCount
        self.file = file
        self.line = line
        buffer.reserveCapacity(Self.flushThreshold + 4096)
    }

    /// Writes one row; pass one value per column, in the order the columns were listed.
    public func writeRow<each Value: PostgresEncodable>(
        isolation: isolated (any Actor)? = #isolation,
        _ values: repeat each Value
    ) async throws {
        let rowStart = buffer.count
        var column = 0
        do {
            for value in repeat each values {
                try appendField(value, column: column)
                column += 1
            }
            try endRow(columns: column)
        } catch {
            buffer.removeSubrange(rowStart...)  // never send half a row
            throw error
        }
        if buffer.count >= Self.flushThreshold { try await flush() }
    }

    /// Writes one row from an array of values.
    public func writeRow(
        isolation: isolated (any Actor)? = #isolation,
        contentsOf values: [any PostgresEncodable]
    ) async throws {
        let rowStart = buffer.count
        do {
            for (column, value) in values.enumerated() { try appendField(value, column: column) }
            try endRow(columns: values.count)
        } catch {
            buffer.removeSubrange(rowStart...)
            throw error
        }
        if buffer.count >= Self.flushThreshold { try await flush() }
    }

    /// Sends everything buffered so far.
    func flush(isolation: isolated (any Actor)? = #isolation) async throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer.removeAll(keepingCapacity: true)
        let file = self.file
        let line = self.line
        try await connection.run { pq in try pq.putCopyData(chunk, file: file, line: line) }
    }

    private func appendField(_ value: some PostgresEncodable, column: Int) throws {
        if column > 0 { buffer.append(UInt8(ascii: "\t")) }
        let encoded: PostgresEncodedValue
        do {
            encoded = try value.encodePostgres()
        } catch {
            throw PostgresError(
                code: .encoding, message: "COPY row \(rowCount + 1), column \(column + 1): \(error)", file: file,
                line: line)
        }
        guard PostgresCopyText.append(encoded, to: &buffer) else {
            throw PostgresError(
                code: .encoding,
                message: "COPY row \(rowCount + 1), column \(column + 1) contains a NUL character, "
                    + "which PostgreSQL text cannot store",
                file: file, line: line)
        }
    }

    private func endRow(columns: Int) throws {
        guard columnCount == 0 || columns == columnCount else {
            throw PostgresError(
                code: .encoding, message: "COPY row \(rowCount + 1) has \(columns) values for \(columnCount) columns",
                file: file, line: line)
        }
        buffer.append(UInt8(ascii: "\n"))
        rowCount += 1
    }
}

/// COPY's text format for one field.
enum PostgresCopyText {
    /// Appends `value` escaped; false if it cannot be represented (a NUL in text).
    static func append(_ value: PostgresEncodedValue, to buffer: inout [UInt8]) -> Bool {
        switch value {
        case .null:
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "N"))
            return true
        case .binary(let bytes):
            // bytea's text input `\x…`, its backslash escaped for COPY.
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(UInt8(ascii: "x"))
            PostgresBytea.appendHexDigits(bytes, to: &buffer)
            return true
        case .text(var text):
            return text.withUTF8 { bytes in appendEscaped(bytes, to: &buffer) }
        }
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) -> Bool {
        var runStart = 0
        for index in bytes.indices {
            let escaped: UInt8
            switch bytes[index] {
            case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            case 0: return false
            default: continue
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            buffer.append(UInt8(ascii: "\\"))
            buffer.append(escaped)
            runStart = index + 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        return true
    }
}
