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
///
/// The hot path counts with small integer keys: each distinct area × category × group of the
/// flush gets local ids for its four dimension sets once, so an incident costs one string
/// lookup and sixteen integer-keyed additions.
struct IncidentCounter {
    /// A window row by local dimension id (an index into `dimensionSets`), granularity and start.
    struct CountKey: Hashable {
        var dimension: Int32
        var granularity: Granularity
        var start: Int64
    }

    struct CountChange {
        var end: Int64
        var delta: Int64
    }

    private(set) var counts: [CountKey: CountChange] = [:]
    /// The dimension sets by local id.
    private(set) var dimensionSets: [MetricDimensions] = []
    private var localIDs: [DimensionsOf: [Int32]] = [:]
    private var localByDimensions: [MetricDimensions: Int32] = [:]
    /// Response-time rows a closed incident entered or left: recomputed from the state table.
    private(set) var responseTimeKeys: Set<CountKey> = []

    private struct DimensionsOf: Hashable {
        var area: String
        var category: String
        var group: String
    }
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

    /// The nonzero changes (a revision that moved nothing cancels out), as window keys.
    var netDeltas: [(key: WindowKey, delta: Int64)] {
        counts.filter { $0.value.delta != 0 }.map { (windowKey($0.key), $0.value.delta) }.sorted { $0.key.messageKey < $1.key.messageKey }
    }

    func windowKey(_ key: CountKey) -> WindowKey {
        WindowKey(
            granularity: key.granularity, start: Date(timeIntervalSince1970: Double(key.start)),
            end: Date(timeIntervalSince1970: Double(counts[key]?.end ?? key.start)), dimensions: dimensionSets[Int(key.dimension)])
    }

    var windowCache: WindowCache { cache }

    private mutating func add(_ incident: CountedIncident, _ delta: Int64) {
        let windows = cache.windows(containing: incident.occurredAt)
        let ids = localDimensionIDs(incident)
        let closed = incident.closedAt != nil
        if let cell = incident.cell {
            cells.insert(cell)
            let day = Int64((incident.occurredAt.timeIntervalSince1970 / 86_400).rounded(.down))
            cellDays[CellDay(cell: cell, day: day, area: incident.area), default: 0] += Int(delta)
        }
        for (granularity, window) in zip(Granularity.allCases, windows) {
            let start = Int64(window.start.timeIntervalSince1970.rounded(.down)), end = Int64(window.end.timeIntervalSince1970.rounded(.down))
            for (index, id) in ids.enumerated() {
                let key = CountKey(dimension: id, granularity: granularity, start: start)
                counts[key, default: CountChange(end: end, delta: 0)].delta += delta
                // Response times have no category-group rows (index 2).
                if closed && index != 2 { responseTimeKeys.insert(key) }
            }
        }
    }

    /// Local ids of `MetricDimensions.of(incident)`, in that order.
    private mutating func localDimensionIDs(_ incident: CountedIncident) -> [Int32] {
        let of = DimensionsOf(area: incident.area, category: incident.category, group: incident.group)
        if let ids = localIDs[of] { return ids }
        var ids: [Int32] = []
        for dimensions in MetricDimensions.of(incident) {
            // Area totals, group totals and the total are shared by many area × category pairs.
            if let existing = localByDimensions[dimensions] {
                ids.append(existing)
            } else {
                let id = Int32(dimensionSets.count)
                dimensionSets.append(dimensions)
                localByDimensions[dimensions] = id
                ids.append(id)
            }
        }
        localIDs[of] = ids
        return ids
    }
}
