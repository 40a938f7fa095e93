import Foundation
import Testing
import TestSupport

@testable import IncidentIngestion

@Suite("CSV reader: RFC 4180, streamed in chunks")
struct CSVReaderTests {
    /// Chunk sizes from one byte (every boundary splits something) to larger than the input.
    static let chunkSizes = [1, 2, 3, 5, 7, 64 * 1024]

    static func rows(_ text: String, chunkSize: Int, delimiter: Character = ",") throws(CSVError) -> [[String]] {
        try rows(Data(text.utf8), chunkSize: chunkSize, delimiter: delimiter)
    }

    static func rows(_ data: Data, chunkSize: Int, delimiter: Character = ",") throws(CSVError) -> [[String]] {
        let reader = try CSVReader(data: data, chunkSize: chunkSize, delimiter: delimiter, hasHeader: false)
        var rows: [[String]] = []
        while let row = try reader.nextRow() { rows.append(row) }
        return rows
    }

    /// Writes `data` to a temporary file, so the FileHandle path is the one under test.
    static func withFile<T>(_ data: Data, _ body: (URL) throws -> T) throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID().uuidString).csv")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try body(url)
    }

    @Test("quoted fields with delimiters, doubled quotes, embedded LF and CRLF, CRLF records", arguments: chunkSizes)
    func trickyQuoting(chunkSize: Int) throws {
        let text = "id,text,n\r\n1,\"a, b\",2\r\n2,\"he said \"\"hi\"\"\",3\r\n3,\"line one\nline two\",4\r\n4,\"crlf\r\ninside\",5\r\n5,\"\",6\r\n"
        let rows = try Self.rows(text, chunkSize: chunkSize)
        #expect(rows == [
            ["id", "text", "n"],
            ["1", "a, b", "2"],
            ["2", "he said \"hi\"", "3"],
            ["3", "line one\nline two", "4"],
            ["4", "crlf\r\ninside", "5"],
            ["5", "", "6"],
        ])
    }

    @Test("LF, lone CR and CRLF line ends; no final line break; empty and trailing fields", arguments: chunkSizes)
    func lineEndsAndEmptyFields(chunkSize: Int) throws {
        #expect(try Self.rows("a,b\n1,2\r3,4\r\n5,6", chunkSize: chunkSize) == [["a", "b"], ["1", "2"], ["3", "4"], ["5", "6"]])
        #expect(try Self.rows(",,\n1,\n,2\n", chunkSize: chunkSize) == [["", "", ""], ["1", ""], ["", "2"]])
        #expect(try Self.rows("", chunkSize: chunkSize) == [])
        #expect(try Self.rows("\"\"", chunkSize: chunkSize) == [[""]])
        #expect(try Self.rows("a\n\nb\n", chunkSize: chunkSize) == [["a"], [""], ["b"]])
    }

    @Test("a UTF-8 byte-order mark is dropped, even when split across chunks; multi-byte characters survive splits", arguments: chunkSizes)
    func byteOrderMarkAndMultibyte(chunkSize: Int) throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + Data("name,city\ncafé,Zürich\n\"naïve, 東京\",x\n".utf8)
        let reader = try CSVReader(data: data, chunkSize: chunkSize)
        #expect(reader.header?.names == ["name", "city"])
        #expect(try reader.nextRecord()?.fields == ["café", "Zürich"])
        #expect(try reader.nextRecord()?.fields == ["naïve, 東京", "x"])
        #expect(try reader.nextRecord() == nil)
        // Only a mark at the very start is dropped.
        #expect(try Self.rows("a,\u{FEFF}b", chunkSize: chunkSize) == [["a", "\u{FEFF}b"]])
    }

    @Test("another delimiter", arguments: [1, 4096])
    func semicolonDelimiter(chunkSize: Int) throws {
        #expect(try Self.rows("a;\"b;c\";d\n1,5;2;3\n", chunkSize: chunkSize, delimiter: ";") == [["a", "b;c", "d"], ["1,5", "2", "3"]])
    }

    @Test("reading a file through FileHandle in tiny chunks gives the same records as one chunk")
    func fileChunks() throws {
        var text = "key,value,note\r\n"
        for index in 0..<500 {
            text += "\(index),\"v\(index), \"\"q\"\"\",\"multi\nline \(index)\"\r\n"
        }
        let data = Data(text.utf8)
        let expected = try Self.withFile(data) { url in try Self.records(url: url, chunkSize: 1 << 20) }
        #expect(expected.count == 500)
        #expect(expected[499] == ["499", "v499, \"q\"", "multi\nline 499"])
        for chunkSize in [1, 3, 17, 4096] {
            let rows = try Self.withFile(data) { url in try Self.records(url: url, chunkSize: chunkSize) }
            #expect(rows == expected, "chunk size \(chunkSize)")
        }
    }

    static func records(url: URL, chunkSize: Int) throws -> [[String]] {
        let reader = try CSVReader(url: url, chunkSize: chunkSize)
        var rows: [[String]] = []
        while let row = try reader.nextRecord() { rows.append(row.fields) }
        return rows
    }

    @Test("random tables survive an RFC 4180 round trip at every chunk size")
    func randomRoundTrip() throws {
        var generator = SeededRandom(seed: 4180)
        let alphabet: [Character] = ["a", "b", ",", "\"", "\n", "\r", " ", "é", "€", "x"]
        for _ in 0..<60 {
            let columns = Int.random(in: 1...5, using: &generator)
            let table: [[String]] = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                (0..<columns).map { _ in
                    String((0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
                }
            }
            // One column of an empty string would be a blank line; RFC 4180 writers quote it.
            let lineEnd = ["\r\n", "\n"].randomElement(using: &generator)!
            let text = table.map { row in
                row.map { field in
                    field.isEmpty || field.unicodeScalars.contains(where: { ",\"\r\n".unicodeScalars.contains($0) })
                        ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
                }.joined(separator: ",")
            }.joined(separator: lineEnd) + (Bool.random(using: &generator) ? lineEnd : "")
            for chunkSize in [1, 2, 5, 1024] {
                #expect(try Self.rows(text, chunkSize: chunkSize) == table, "chunk \(chunkSize): \(text.debugDescription)")
            }
        }
    }

    @Test("header-aware reading: fields by name, dictionary, line numbers, blank lines skipped")
    func headerAware() throws {
        let text = "id,name\n1,\"two\nlines\"\n\n2,b\n"
        let reader = try CSVReader(data: Data(text.utf8), chunkSize: 2)
        let first = try #require(try reader.nextRecord())
        #expect(first["id"] == "1")
        #expect(first["name"] == "two\nlines")
        #expect(first["missing"] == nil)
        #expect(first.dictionary == ["id": "1", "name": "two\nlines"])
        #expect(first.line == 2)
        let second = try #require(try reader.nextRecord())
        #expect(second.fields == ["2", "b"])
        #expect(second.line == 5)
        #expect(try reader.nextRecord() == nil)
    }

    @Test("malformed input is refused with the line, never repaired")
    func malformed() throws {
        func error(_ text: String, hasHeader: Bool = false) -> CSVError? {
            do {
                let reader = try CSVReader(data: Data(text.utf8), chunkSize: 3, hasHeader: hasHeader)
                if hasHeader {
                    while try reader.nextRecord() != nil {}
                } else {
                    while try reader.nextRow() != nil {}
                }
                return nil
            } catch {
                return error
            }
        }
        #expect(error("a,b\n1,\"open\n2,3\n")?.code == .unterminatedQuote)
        #expect(error("a,b\n1,\"open\n2,3\n")?.line == 2)
        #expect(error("a,\"b\"c\n")?.code == .characterAfterQuote)
        #expect(error("")?.code == nil)
        #expect(error("", hasHeader: true)?.code == .missingHeader)
        #expect(error("a,a\n1,2\n", hasHeader: true)?.code == .duplicateColumn)
        let invalid = Data("a,b\n1,".utf8) + Data([0xFF, 0xFE]) + Data("\n".utf8)
        #expect(throws: CSVError.self) { _ = try Self.rows(invalid, chunkSize: 4) }
        do {
            _ = try Self.rows(invalid, chunkSize: 4)
        } catch {
            #expect(error.code == .invalidUTF8)
            #expect(error.line == 2)
        }
    }

    @Test("a record with the wrong number of fields is reported and reading goes on")
    func fieldCountMismatchIsRecoverable() throws {
        let reader = try CSVReader(data: Data("a,b\n1,2\n3\n4,5,6\n7,8\n".utf8), chunkSize: 4)
        #expect(try reader.nextRecord()?.fields == ["1", "2"])
        for line in [3, 4] {
            do {
                _ = try reader.nextRecord()
                Issue.record("expected a field-count error at line \(line)")
            } catch {
                #expect(error.code == .fieldCountMismatch)
                #expect(error.line == line)
                #expect(error.isRecoverable)
            }
        }
        #expect(try reader.nextRecord()?.fields == ["7", "8"])
        #expect(try reader.nextRecord() == nil)
    }

    @Test("a missing file is an I/O error naming the path")
    func missingFile() {
        do {
            _ = try CSVReader(url: URL(fileURLWithPath: "/nonexistent/file.csv"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .io)
            #expect(error.description.contains("/nonexistent/file.csv"))
        }
    }
}
