import Foundation

/// One changed window row, as the update log keeps it and the publisher sends it
/// (`coalition.metric.v1`). Times are whole epoch seconds; `values` follow
/// `metric.valueNames`, `nil` where a value is undefined (a percentile of nothing).
struct MetricUpdate: Sendable, Equatable {
    var metric: MetricName
    var granularity: Granularity
    var dimensionID: Int32
    var windowStart: Int64
    var windowEnd: Int64
    var count: Int64
    var values: [Double?]
    var revision: Int32
    var final: Bool

    /// `<granularity>/<window_start>/<dimensions>`: the Kafka key (docs/asyncapi.yaml).
    func messageKey(_ dimensions: DimensionSet) -> String {
        granularity.rawValue + "/" + MetricTime.string(epoch: windowStart) + "/" + dimensions.key
    }
}

/// The update log's binary form of a list of updates: per entry a fixed 40-byte head
/// (metric, granularity, flags, value count, dimension id, start, end, count, revision; little
/// endian) and 8 bytes per value, a reserved NaN standing for `nil`.
enum MetricUpdateCoding {
    static let nilBits: UInt64 = 0x7FF8_DEAD_0000_0001

    static func encode(_ updates: some Collection<MetricUpdate>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(updates.count * 40)
        for update in updates {
            bytes.append(update.metric.code)
            bytes.append(UInt8(update.granularity.code))
            bytes.append(update.final ? 1 : 0)
            bytes.append(UInt8(update.values.count))
            append(UInt32(bitPattern: update.dimensionID), to: &bytes)
            append(UInt64(bitPattern: update.windowStart), to: &bytes)
            append(UInt64(bitPattern: update.windowEnd), to: &bytes)
            append(UInt64(bitPattern: update.count), to: &bytes)
            append(UInt32(bitPattern: update.revision), to: &bytes)
            for value in update.values { append(value.map(\.bitPattern) ?? nilBits, to: &bytes) }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [MetricUpdate] {
        var updates: [MetricUpdate] = []
        var offset = 0
        func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            guard offset + size <= bytes.count else { throw MetricsStoreError(.corruptUpdateLog, "entry cut short at byte \(offset)") }
            var value: T = 0
            for index in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + index]) << (8 * index) }
            offset += size
            return value
        }
        while offset < bytes.count {
            let metricCode = try read(UInt8.self)
            let granularityCode = try read(UInt8.self)
            let flags = try read(UInt8.self)
            let valueCount = Int(try read(UInt8.self))
            guard let metric = MetricName(code: metricCode), let granularity = Granularity(code: Int16(granularityCode)) else {
                throw MetricsStoreError(.corruptUpdateLog, "unknown metric or granularity at byte \(offset - 4)")
            }
            var update = MetricUpdate(
                metric: metric, granularity: granularity, dimensionID: Int32(bitPattern: try read(UInt32.self)),
                windowStart: Int64(bitPattern: try read(UInt64.self)), windowEnd: Int64(bitPattern: try read(UInt64.self)),
                count: Int64(bitPattern: try read(UInt64.self)), values: [], revision: 0, final: flags & 1 == 1)
            update.revision = Int32(bitPattern: try read(UInt32.self))
            update.values.reserveCapacity(valueCount)
            for _ in 0..<valueCount {
                let bits = try read(UInt64.self)
                update.values.append(bits == nilBits ? nil : Double(bitPattern: bits))
            }
            updates.append(update)
        }
        return updates
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        for index in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}
