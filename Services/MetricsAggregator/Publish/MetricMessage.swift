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
/// publisher writes one for every changed window, hundreds of thousands a minute. One writer
/// serves one log row: `computed_at` is rendered once, each dimension set once.
struct MetricPayloadWriter {
    private let prefix: [UInt8]
    private var dimensionsJSON: [Int32: [UInt8]] = [:]

    init(computedAt: Date) {
        prefix = Array("{\"computed_at\":\"\(RFC3339.string(from: computedAt))\",\"dimensions\":".utf8)
    }

    /// The payload of `update` with `dimensions` (the set `update.dimensionID` names); values
    /// withheld (`null`, `suppressed: true`) when `withheld`.
    mutating func payload(_ update: MetricUpdate, dimensions: DimensionSet, withheld: Bool) -> [UInt8] {
        var bytes = prefix
        bytes.reserveCapacity(prefix.count + 320)
        if let cached = dimensionsJSON[update.dimensionID] {
            bytes.append(contentsOf: cached)
        } else {
            var object: [UInt8] = [UInt8(ascii: "{")]
            for (index, name) in dimensions.object.keys.sorted().enumerated() {
                if index > 0 { object.append(UInt8(ascii: ",")) }
                Self.string(name, to: &object)
                object.append(UInt8(ascii: ":"))
                Self.string(dimensions.object[name]!, to: &object)
            }
            object.append(UInt8(ascii: "}"))
            dimensionsJSON[update.dimensionID] = object
            bytes.append(contentsOf: object)
        }
        Self.raw(update.final ? ",\"final\":true,\"granularity\":\"" : ",\"final\":false,\"granularity\":\"", to: &bytes)
        Self.raw(update.granularity.rawValue, to: &bytes)
        Self.raw("\",\"metric\":\"", to: &bytes)
        Self.raw(update.metric.rawValue, to: &bytes)
        Self.raw("\",\"revision\":", to: &bytes)
        Self.integer(Int64(update.revision), to: &bytes)
        if withheld { Self.raw(",\"suppressed\":true", to: &bytes) }
        Self.raw(",\"values\":{", to: &bytes)
        for (position, (name, index)) in Self.valueOrder[Int(update.metric.code)].enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: name)
            let value: Double? = index < 0 ? Double(update.count) : (index < update.values.count ? update.values[index] : nil)
            if let value, !withheld { Self.number(value, to: &bytes) } else { Self.raw("null", to: &bytes) }
        }
        Self.raw("},\"window_end\":\"", to: &bytes)
        Self.time(update.windowEnd, to: &bytes)
        Self.raw("\",\"window_start\":\"", to: &bytes)
        Self.time(update.windowStart, to: &bytes)
        Self.raw("\"}", to: &bytes)
        return bytes
    }

    /// One payload on its own (tests, the live stream's single rows).
    static func payload(_ update: MetricUpdate, dimensions: DimensionSet, withheld: Bool, computedAt: Date) -> [UInt8] {
        var writer = MetricPayloadWriter(computedAt: computedAt)
        return writer.payload(update, dimensions: dimensions, withheld: withheld)
    }

    /// Per metric (by code): `"name":` of `count` and its other values in key order, with the
    /// index into `MetricUpdate.values` (−1 for the count).
    private static let valueOrder: [[(name: [UInt8], index: Int)]] = MetricName.allCases.sorted { $0.code < $1.code }.map { metric in
        ([("count", -1)] + metric.valueNames.enumerated().map { ($1, $0) })
            .sorted { $0.0 < $1.0 }
            .map { (name, index) in (Array("\"\(name)\":".utf8), index) }
    }

    private static func raw(_ text: StaticString, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private static func raw(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Whole seconds written as `RFC3339.string` writes them: with milliseconds.
    static func time(_ epoch: Int64, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 20))
        MetricTime.write(epoch: epoch, into: &bytes, at: start)
        bytes.removeLast()   // the Z, after which come the milliseconds
        raw(".000Z", to: &bytes)
    }

    private static func integer(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            integer(-value, to: &bytes)   // (Int64.min never occurs: counts and revisions)
            return
        }
        if value >= 10 { integer(value / 10, to: &bytes) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// A JSON number as JSONEncoder writes a Double: integral values without a fraction.
    private static func number(_ value: Double, to bytes: inout [UInt8]) {
        if value == value.rounded(), abs(value) < 1e15 {
            integer(Int64(value), to: &bytes)
        } else {
            raw("\(value)", to: &bytes)
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as is.
    static func string(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): raw("\\\"", to: &bytes)
            case UInt8(ascii: "\\"): raw("\\\\", to: &bytes)
            case 0x0A: raw("\\n", to: &bytes)
            case 0x0D: raw("\\r", to: &bytes)
            case 0x09: raw("\\t", to: &bytes)
            case 0x08: raw("\\b", to: &bytes)
            case 0x0C: raw("\\f", to: &bytes)
            case 0..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                raw("\\u00", to: &bytes)
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
