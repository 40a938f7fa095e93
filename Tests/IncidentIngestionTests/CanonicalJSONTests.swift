import Contracts
import Foundation
import Testing
import TestSupport

@testable import IncidentIngestion

/// The hand-written encoder against `CoalitionJSON.encoder`: the content hashes of stored
/// incidents are taken over these bytes, so the two must agree byte for byte.
@Suite("Canonical JSON writer")
struct CanonicalJSONTests {
    static func text(_ random: inout SeededRandom, maximumLength: Int = 12) -> String {
        let pieces = ["a", "Z", "0", " ", "/", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}",
                      "é", "e\u{301}", "ß", "😀", "👩‍👩‍👧", "\u{2028}", "\u{FEFF}", "<", "&", "'", "中文", "-", "_"]
        var text = ""
        for _ in 0..<Int.random(in: 0...maximumLength, using: &random) { text += pieces[Int.random(in: 0..<pieces.count, using: &random)] }
        return text
    }

    static func double(_ random: inout SeededRandom) -> Double {
        switch Int.random(in: 0..<8, using: &random) {
        case 0: return [0, -0.0, 1, -1, 100, 1e15, 1e16, 1e21, 1e-5, 1e-7, 5e-324, .greatestFiniteMagnitude, 0.1 + 0.2][Int.random(in: 0..<13, using: &random)]
        case 1: return Double(Int.random(in: -180...180, using: &random))
        case 2: return Double(bitPattern: random.next()).isFinite ? Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF) : 1
        default: return Double.random(in: -180...180, using: &random)
        }
    }

    static func date(_ random: inout SeededRandom) -> Date {
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return Date(timeIntervalSince1970: Double(Int.random(in: -2_000_000_000...4_000_000_000, using: &random)))
        case 1: return Date(timeIntervalSince1970: Double(Int.random(in: 1_500_000_000...1_800_000_000, using: &random)) + Double(Int.random(in: 0...999, using: &random)) / 1000)
        case 2: return Date(timeIntervalSinceReferenceDate: Double.random(in: -70_000_000_000 ... 260_000_000_000, using: &random))
        case 3: return Date(timeIntervalSinceReferenceDate: Double.random(in: -13_000_000_000 ... -12_000_000_000, using: &random))
        default: return Date(timeIntervalSince1970: Double.random(in: 1_400_000_000...1_800_000_000, using: &random))
        }
    }

    static func attributes(_ random: inout SeededRandom) -> [String: String]? {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return nil
        case 1: return [:]
        default:
            var result: [String: String] = [:]
            let names = ["agency", "Agency", "agencyName", "URLValue", "a_b", "b", "é", "ä", "10", "9", "", "descriptor", "media_url", "Zeta"]
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                result[names[Int.random(in: 0..<names.count, using: &random)] + text(&random, maximumLength: 2)] = text(&random)
            }
            return result
        }
    }

    static func rawIncident(_ random: inout SeededRandom) -> RawIncident {
        func maybe<T>(_ make: (inout SeededRandom) -> T) -> T? { Bool.random(using: &random) ? make(&random) : nil }
        let location: IncidentLocation? = switch Int.random(in: 0..<4, using: &random) {
        case 0: nil
        case 1: IncidentLocation(address: text(&random))
        case 2: IncidentLocation(lat: double(&random), lon: double(&random))
        default: IncidentLocation(lat: double(&random), lon: double(&random), address: text(&random))
        }
        return RawIncident(
            source: "s" + text(&random, maximumLength: 3), externalId: text(&random), category: text(&random),
            description: maybe { text(&$0, maximumLength: 40) }, occurredAt: date(&random), reportedAt: maybe(date), closedAt: maybe(date),
            updatedAt: maybe(date), status: maybe { text(&$0) }, location: location, areaHint: maybe { text(&$0) },
            severity: maybe { Int.random(in: 1...5, using: &$0) }, attributes: attributes(&random))
    }

    @Test("random raw incidents: the content-hash input equals CoalitionJSON.encoder's bytes")
    func rawIncidents() throws {
        var random = SeededRandom(seed: 0xC0DE_0001)
        for _ in 0..<3000 {
            let raw = Self.rawIncident(&random)
            let expected = Array(try CoalitionJSON.encoder.encode(raw))
            #expect(raw.canonicalJSON == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test("random canonical incidents: the document equals CoalitionJSON.encoder's bytes")
    func canonicalIncidents() throws {
        var random = SeededRandom(seed: 0xC0DE_0002)
        for _ in 0..<3000 {
            let raw = Self.rawIncident(&random)
            let category = IncidentCategory.allCases[Int.random(in: 0..<IncidentCategory.allCases.count, using: &random)]
            let incident = CanonicalIncident(
                id: UUID(), revision: Int.random(in: 1...1000, using: &random), source: raw.source, externalId: raw.externalId,
                category: category, sourceCategory: raw.category, categoryGroup: category.group, description: raw.description,
                occurredAt: raw.occurredAt, reportedAt: raw.reportedAt, closedAt: raw.closedAt, updatedAt: raw.updatedAt, status: raw.status,
                location: raw.location, areaHint: raw.areaHint, areaId: Self.text(&random),
                cell: Bool.random(using: &random) ? "dr5ru7q" : nil, severity: Int.random(in: 1...5, using: &random),
                sensitive: category.isSensitive, attributes: raw.attributes, ingestedAt: Self.date(&random))
            let expected = Array(try CoalitionJSON.encoder.encode(incident))
            #expect(incident.canonicalJSON == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test("strings: quotes, backslashes and control characters escaped as JSONEncoder does, the rest as UTF-8")
    func escapes() throws {
        var everything = ""
        for value in 0..<0x80 { everything.unicodeScalars.append(Unicode.Scalar(UInt8(value))) }
        everything += "\u{80}\u{2028}\u{2029}\u{FEFF}é😀"
        var writer = CanonicalJSONWriter()
        writer.string(everything)
        #expect(writer.bytes == Array(try CoalitionJSON.encoder.encode(everything)))
        #expect(String(decoding: writer.bytes.prefix(25), as: UTF8.self) == #""\u0000\u0001\u0002\u0003"#)
    }
}

/// The hand-written RFC 3339 parser and formatter against Foundation's (`RFC3339`).
@Suite("RFC 3339 timestamps")
struct RFC3339TimestampTests {
    @Test("formatting random instants gives RFC3339.string's text, before and after the fast range too")
    func formatting() {
        var random = SeededRandom(seed: 0x7153_0001)
        for _ in 0..<20000 {
            let date = CanonicalJSONTests.date(&random)
            #expect(RFC3339Timestamp.string(from: date) == RFC3339.string(from: date), "\(date.timeIntervalSinceReferenceDate)")
        }
        for interval in [0.0, -0.001, 0.0005, 0.9999, 763_622_400.123, 252_423_993_599.999, -12_212_553_600, -12_212_553_600.001, 252_460_800_000] {
            let date = Date(timeIntervalSinceReferenceDate: interval)
            #expect(RFC3339Timestamp.string(from: date) == RFC3339.string(from: date), "\(interval)")
        }
    }

    @Test("parsing random valid texts gives RFC3339.date's instant, and nil where it gives nil")
    func parsing() {
        var random = SeededRandom(seed: 0x7153_0002)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        for _ in 0..<20000 {
            let year = Int.random(in: 0...9999, using: &random)
            let month = Int.random(in: 1...12, using: &random), day = Int.random(in: 1...28, using: &random)
            var text = String(repeating: "0", count: 4 - String(year).count) + String(year) + "-\(two(month))-\(two(day))"
            text += "T\(two(Int.random(in: 0...23, using: &random))):\(two(Int.random(in: 0...59, using: &random))):\(two(Int.random(in: 0...59, using: &random)))"
            let digits = Int.random(in: 0...12, using: &random)
            if digits > 0 { text += "." + (0..<digits).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined() }
            if Bool.random(using: &random) {
                text += "Z"
            } else {
                text += (Bool.random(using: &random) ? "+" : "-") + two(Int.random(in: 0...23, using: &random)) + ":" + two(Int.random(in: 0...59, using: &random))
            }
            #expect(RFC3339Syntax.check(text) == .valid)
            let expected = RFC3339.date(from: text)
            let actual = RFC3339Timestamp.date(fromValid: text)
            #expect(actual?.timeIntervalSinceReferenceDate.bitPattern == expected?.timeIntervalSinceReferenceDate.bitPattern, "\(text)")
        }
    }

    @Test("Foundation's limits are kept: at most nine fractional digits, offsets up to 18 hours, Julian dates before 1583")
    func limits() {
        for text in ["2025-03-14T01:20:00.123456789Z", "2025-03-14T01:20:00.1234567891Z", "2025-03-14T01:20:00+18:00", "2025-03-14T01:20:00-18:01",
                     "2025-03-14T01:20:00+19:00", "1582-10-10T00:00:00Z", "0000-01-01T00:00:00Z", "1583-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            #expect(RFC3339Timestamp.date(fromValid: text) == RFC3339.date(from: text), "\(text)")
        }
        #expect(RFC3339Timestamp.date(fromValid: "2025-03-14T01:20:00.1234567891Z") == nil)
        #expect(RFC3339Timestamp.date(fromValid: "2025-03-14T01:20:00+18:01") == nil)
    }
}
