import Contracts
import Foundation
import ServiceKit

/// `coalition.metric.v1` (docs/asyncapi.yaml, `MetricV1`): one window of one metric, re-sent
/// under the same key with a higher `revision` whenever its value changes.
public struct MetricMessage: Codable, Sendable, Equatable {
    public var metric: String
    public var granularity: Granularity
    public var windowStart: Date
    public var windowEnd: Date
    public var dimensions: [String: String]
    public var values: [String: Double?]
    public var revision: Int64
    /// The grace period (event time) has passed: the window is not expected to change.
    public var final: Bool
    /// Values withheld from public outputs (a sensitive category below `k`).
    public var suppressed: Bool?
    public var computedAt: Date

    public static let source = "/coalition/metrics-aggregator"
}

/// Writes `coalition.metric.v1` payloads byte for byte as `CoalitionJSON.encoder` writes a
/// `MetricMessage` (sorted keys, no escaped slashes), without going through `Encoder`: the
/// publisher writes one for every changed window, hundreds of thousands a minute.
struct MetricPayloadWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(384)
    }

    /// The payload of `update` with `dimensions`; values withheld (`null`, `suppressed: true`)
    /// when `withheld`. `computedAt` is written with milliseconds, as RFC3339 does.
    static func payload(_ update: MetricUpdate, dimensions: DimensionSet, withheld: Bool, computedAt: Date) -> [UInt8] {
        var writer = MetricPayloadWriter()
        writer.raw("{\"computed_at\":\"")
        writer.raw(RFC3339.string(from: computedAt))
        writer.raw("\",\"dimensions\":{")
        for (index, name) in dimensions.object.keys.sorted().enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(name)
            writer.raw(":")
            writer.string(dimensions.object[name]!)
        }
        writer.raw("},\"final\":")
        writer.raw(update.final ? "true" : "false")
        writer.raw(",\"granularity\":\"")
        writer.raw(update.granularity.rawValue)
        writer.raw("\",\"metric\":\"")
        writer.raw(update.metric.rawValue)
        writer.raw("\",\"revision\":")
        writer.raw(String(update.revision))
        if withheld { writer.raw(",\"suppressed\":true") }
        writer.raw(",\"values\":{")
        var named: [(String, Double?)] = [("count", Double(update.count))]
        for (name, value) in zip(update.metric.valueNames, update.values) { named.append((name, value)) }
        named.sort { $0.0 < $1.0 }
        for (index, (name, value)) in named.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(name)
            writer.raw(":")
            if let value, !withheld { writer.number(value) } else { writer.raw("null") }
        }
        writer.raw("},\"window_end\":\"")
        writer.time(update.windowEnd)
        writer.raw("\",\"window_start\":\"")
        writer.time(update.windowStart)
        writer.raw("\"}")
        return writer.bytes
    }

    private mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Whole seconds written as `RFC3339.string` writes them: with milliseconds.
    private mutating func time(_ epoch: Int64) {
        var buffer = [UInt8](repeating: 0, count: 20)
        MetricTime.write(epoch: epoch, into: &buffer)
        bytes.append(contentsOf: buffer[0..<19])
        raw(".000Z")
    }

    /// A JSON number as JSONEncoder writes a Double: integral values without a fraction.
    private mutating func number(_ value: Double) {
        if value == value.rounded(), abs(value) < 1e15 {
            raw(String(Int64(value)))
        } else {
            raw("\(value)")
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as is.
    private mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Public outputs of metrics (SPEC §6): values that could reveal a sensitive incident — a
/// sensitive category's count between 1 and k − 1 — are withheld. Zero reveals nothing.
public struct SuppressionRule: Sendable {
    public var k: Int
    public init(k: Int) { self.k = k }

    public func withholds(count: Int64, sensitive: Bool) -> Bool {
        sensitive && count > 0 && count < Int64(k)
    }

    static let sensitiveCategories: Set<String> = Set(IncidentCategory.allCases.filter(\.isSensitive).map(\.rawValue))

    static func isSensitive(_ dimensions: MetricDimensions) -> Bool {
        sensitiveCategories.contains(dimensions.category)
    }
}
