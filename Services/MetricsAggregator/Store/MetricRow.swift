import Foundation

/// One window row of one metric: what `metric_values` keys by dimension set, granularity
/// and window start.
struct MetricRow: Hashable, Sendable {
    var granularity: Granularity
    var start: Date
    var end: Date
    var dimensions: DimensionSet

    var startEpoch: Int64 { Int64(start.timeIntervalSince1970.rounded(.down)) }
    var endEpoch: Int64 { Int64(end.timeIntervalSince1970.rounded(.down)) }

    /// `<granularity>/<window_start>/<dimensions>`, the Kafka key.
    var messageKey: String { granularity.rawValue + "/" + MetricTime.string(start) + "/" + dimensions.key }

    /// Every window of every granularity containing `date`, with `dimensions`.
    static func rows(containing date: Date, dimensions: [DimensionSet], cache: inout WindowCache) -> [MetricRow] {
        let windows = cache.windows(containing: date)
        var rows: [MetricRow] = []
        rows.reserveCapacity(windows.count * dimensions.count)
        for (granularity, window) in zip(Granularity.allCases, windows) {
            for set in dimensions { rows.append(MetricRow(granularity: granularity, start: window.start, end: window.end, dimensions: set)) }
        }
        return rows
    }
}

/// A recomputed row: its count and the metric's other values (`MetricName.valueNames` order).
struct ComputedRow: Sendable {
    var row: MetricRow
    var count: Int64
    var values: [Double?]
}
