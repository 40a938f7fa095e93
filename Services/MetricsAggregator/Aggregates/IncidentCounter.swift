import Foundation

/// One aggregate row: a window of one granularity and a set of dimensions.
public struct WindowKey: Hashable, Sendable {
    public var granularity: Granularity
    public var start: Date
    public var end: Date
    public var dimensions: MetricDimensions

    /// `<granularity>/<window_start>/<dimensions>`, the Kafka key (docs/asyncapi.yaml).
    public var messageKey: String {
        "\(granularity.rawValue)/\(MetricTime.string(start))/\(dimensions.key)"
    }

    var row: MetricRow { MetricRow(granularity: granularity, start: start, end: end, dimensions: dimensions.set) }
}

/// Turns incident revisions into count changes. Each incident counts once, in the windows
/// of its `occurred_at`; a newer revision that moves it (time, area or category) takes
/// its count away from where the previous revision put it. Revisions no newer than the one
/// already counted — a duplicate delivery, a replay, a revision overtaken by a later one —
/// change nothing, which makes applying the same stream twice a no-op.
struct IncidentCounter {
    private(set) var deltas: [WindowKey: Int64] = [:]
    /// Response-time rows a closed incident entered or left: recomputed from the state table.
    private(set) var responseTimeKeys: Set<WindowKey> = []
    /// Hotspot cells an incident entered or left.
    private(set) var cells: Set<String> = []
    /// Changes of the per-cell, per-UTC-day, per-area counts the hotspot rule reads.
    private(set) var cellDays: [CellDay: Int] = [:]

    struct CellDay: Hashable {
        var cell: String
        var day: Int64
        var area: String
    }
    /// The state after everything applied so far, for the incidents touched.
    private(set) var changed: [UUID: CountedIncident] = [:]
    private var cache: WindowCache

    init(cache: WindowCache) {
        self.cache = cache
    }

    /// Applies one revision given what the counts reflected before it (`previous`);
    /// returns whether it changed the incident's state.
    @discardableResult
    mutating func apply(_ incident: CountedIncident, previous: CountedIncident?) -> Bool {
        let before = changed[incident.id] ?? previous
        if let before, before.revision >= incident.revision { return false }
        if let before { add(before, -1) }
        add(incident, +1)
        changed[incident.id] = incident
        return true
    }

    /// Replaces what the counts reflect for one incident, whatever the revisions say: a
    /// rebuild after a category mapping changed recounts incidents without a new revision.
    mutating func replace(_ previous: CountedIncident?, with current: CountedIncident?) {
        if let previous { add(previous, -1) }
        if let current {
            add(current, +1)
            changed[current.id] = current
        }
    }

    /// The nonzero changes (a revision that moved nothing cancels out).
    var netDeltas: [(key: WindowKey, delta: Int64)] {
        deltas.filter { $0.value != 0 }.map { ($0.key, $0.value) }.sorted { $0.key.messageKey < $1.key.messageKey }
    }

    /// The nonzero changes as window rows, in no particular order (the writer sorts by id).
    var rowDeltas: [(row: MetricRow, delta: Int64)] {
        var result: [(row: MetricRow, delta: Int64)] = []
        result.reserveCapacity(deltas.count)
        for (key, delta) in deltas where delta != 0 { result.append((key.row, delta)) }
        return result
    }

    var windowCache: WindowCache { cache }

    private mutating func add(_ incident: CountedIncident, _ delta: Int64) {
        let windows = cache.windows(containing: incident.occurredAt)
        let dimensions = MetricDimensions.of(incident)
        let closed = incident.closedAt != nil
        if let cell = incident.cell {
            cells.insert(cell)
            let day = Int64((incident.occurredAt.timeIntervalSince1970 / 86_400).rounded(.down))
            cellDays[CellDay(cell: cell, day: day, area: incident.area), default: 0] += Int(delta)
        }
        for (granularity, window) in zip(Granularity.allCases, windows) {
            for dimension in dimensions {
                let key = WindowKey(granularity: granularity, start: window.start, end: window.end, dimensions: dimension)
                deltas[key, default: 0] += delta
                if closed && dimension.group == nil { responseTimeKeys.insert(key) }
            }
        }
    }
}
