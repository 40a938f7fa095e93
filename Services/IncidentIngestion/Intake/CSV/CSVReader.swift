import Foundation

/// A streaming RFC 4180 reader: the file is read in chunks of `chunkSize` bytes, never whole.
///
/// Accepted beyond the letter of RFC 4180, because real exports do it: LF or a lone CR as
/// well as CRLF between records, a UTF-8 byte-order mark before the first byte (dropped), and
/// a quote inside an unquoted field (kept as a literal character, since no value changes).
/// Rejected, because guessing would alter data: end of file inside a quoted field, anything
/// but a delimiter or line break after a closing quote, and bytes that are not UTF-8.
/// Line breaks inside quoted fields are kept exactly as written (CRLF stays CRLF).
///
/// With `hasHeader`, the first record names the columns and `nextRecord()` returns rows
/// addressable by name; blank lines between records are skipped there (as Python's
/// `csv.DictReader` does), while `nextRow()` returns a blank line as one empty field.
final class CSVReader {
    private enum Input {
        case file(FileHandle)
        case memory(Data, offset: Int)
    }

    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    private static let quote = UInt8(ascii: "\"")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let lineFeed = UInt8(ascii: "\n")

    let chunkSize: Int
    let delimiter: UInt8
    /// The column names, when the reader was created with `hasHeader`.
    private(set) var header: CSVHeader?
    /// The physical line (1-based) where the next record starts.
    private(set) var line = 1

    private var input: Input
    private var buffer: [UInt8] = []
    private var position = 0
    private var exhausted = false
    /// The last record ended with CR: an LF right after it belongs to the same line break.
    private var skipLineFeed = false

    /// Opens `url` for streaming. `delimiter` must be an ASCII character other than a quote or line break.
    convenience init(url: URL, chunkSize: Int = 64 * 1024, delimiter: Character = ",", hasHeader: Bool = true) throws(CSVError) {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw CSVError(.io, "cannot open \(url.path): \(error.localizedDescription)")
        }
        try self.init(input: .file(handle), chunkSize: chunkSize, delimiter: delimiter, hasHeader: hasHeader)
    }

    /// Reads CSV already in memory (an HTTP body), through the same chunked path as files.
    convenience init(data: Data, chunkSize: Int = 64 * 1024, delimiter: Character = ",", hasHeader: Bool = true) throws(CSVError) {
        try self.init(input: .memory(data, offset: data.startIndex), chunkSize: chunkSize, delimiter: delimiter, hasHeader: hasHeader)
    }

    private init(input: Input, chunkSize: Int, delimiter: Character, hasHeader: Bool) throws(CSVError) {
        precondition(chunkSize > 0, "chunkSize must be positive")
        guard let byte = delimiter.asciiValue, byte != Self.quote, byte != Self.carriageReturn, byte != Self.lineFeed else {
            preconditionFailure("the delimiter must be an ASCII character other than a quote or a line break")
        }
        self.input = input
        self.chunkSize = chunkSize
        self.delimiter = byte
        try dropByteOrderMark()
        if hasHeader {
            guard let names = try nextRow() else { throw CSVError(.missingHeader, "the file is empty", line: 1) }
            header = try CSVHeader(names)
        }
    }

    deinit {
        if case .file(let handle) = input { try? handle.close() }
    }

    /// The next record as fields, or `nil` at the end of the file.
    func nextRow() throws(CSVError) -> [String]? {
        if skipLineFeed {
            skipLineFeed = false
            if try hasByte(), buffer[position] == Self.lineFeed { position += 1 }
        }
        guard try hasByte() else { return nil }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var state = State.fieldStart
        while true {
            guard try hasByte() else {
                if state == .quoted {
                    throw CSVError(.unterminatedQuote, "the file ends inside a quoted field", line: startLine)
                }
                fields.append(try Self.string(field, line: startLine))
                return fields
            }
            switch state {
            case .fieldStart:
                if buffer[position] == Self.quote {
                    position += 1
                    state = .quoted
                } else {
                    state = .unquoted
                }
            case .unquoted:
                var end = position
                while end < buffer.count {
                    let byte = buffer[end]
                    if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn { break }
                    end += 1
                }
                field.append(contentsOf: buffer[position..<end])
                position = end
                guard end < buffer.count else { continue }  // the field goes on in the next chunk
                let terminator = buffer[position]
                position += 1
                fields.append(try Self.string(field, line: startLine))
                field.removeAll(keepingCapacity: true)
                if terminator == delimiter {
                    state = .fieldStart
                } else {
                    skipLineFeed = terminator == Self.carriageReturn
                    line += 1
                    return fields
                }
            case .quoted:
                var end = position
                while end < buffer.count, buffer[end] != Self.quote {
                    if buffer[end] == Self.lineFeed { line += 1 }
                    end += 1
                }
                field.append(contentsOf: buffer[position..<end])
                position = end
                guard end < buffer.count else { continue }
                position += 1
                state = .quoteInQuoted
            case .quoteInQuoted:
                let byte = buffer[position]
                if byte == Self.quote {
                    field.append(Self.quote)
                    position += 1
                    state = .quoted
                } else if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn {
                    state = .unquoted  // an empty run, then the terminator ends the field
                } else {
                    throw CSVError(
                        .characterAfterQuote, "a closing quote is followed by a character other than a delimiter or line break",
                        line: startLine)
                }
            }
        }
    }

    /// The next record by column name, or `nil` at the end of the file. Needs `hasHeader`.
    ///
    /// A record whose field count differs from the header's throws `fieldCountMismatch`; the
    /// reader stays usable, so a caller may report it and go on.
    func nextRecord() throws(CSVError) -> CSVRow? {
        guard let header else { preconditionFailure("nextRecord() needs a reader created with hasHeader: true") }
        while true {
            let startLine = line
            guard let fields = try nextRow() else { return nil }
            if fields.count == 1, fields[0].isEmpty { continue }
            guard fields.count == header.count else {
                throw CSVError(
                    .fieldCountMismatch, "the record has \(fields.count) fields, the header \(header.count)", line: startLine)
            }
            return CSVRow(header: header, fields: fields, line: startLine)
        }
    }

    // MARK: - Input

    private static func string(_ bytes: [UInt8], line: Int) throws(CSVError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CSVError(.invalidUTF8, "a field is not valid UTF-8", line: line)
        }
        return text
    }

    /// Whether a byte is available at `position`, reading the next chunk when needed.
    private func hasByte() throws(CSVError) -> Bool {
        if position < buffer.count { return true }
        buffer.removeAll(keepingCapacity: true)
        position = 0
        try appendChunk()
        return !buffer.isEmpty
    }

    private func appendChunk() throws(CSVError) {
        guard !exhausted else { return }
        switch input {
        case .file(let handle):
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: chunkSize)
            } catch {
                throw CSVError(.io, "read failed: \(error.localizedDescription)", line: line)
            }
            guard let chunk, !chunk.isEmpty else {
                exhausted = true
                return
            }
            buffer.append(contentsOf: chunk)
        case .memory(let data, let offset):
            let end = min(offset + chunkSize, data.endIndex)
            guard offset < end else {
                exhausted = true
                return
            }
            buffer.append(contentsOf: data[offset..<end])
            input = .memory(data, offset: end)
        }
    }

    /// A BOM can straddle chunks when chunks are tiny, so gather three bytes first.
    private func dropByteOrderMark() throws(CSVError) {
        while buffer.count < 3, !exhausted { try appendChunk() }
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
    }
}
