import Foundation

/// `coalition.hotspot.v1` on `metrics.hotspots` (key = the geohash cell): a cell whose
/// trailing 7-day incident count is significantly above its own 28-day baseline. The
/// metrics aggregator publishes `start`, then `update`s, then `end` under one stable
/// `episodeId`; the scheduler turns a `start` into at most one emergency meeting per episode.
/// Field names follow docs/asyncapi.yaml (snake_case through `CoalitionJSON`).
public struct HotspotEpisode: Codable, Sendable, Equatable {
    public enum Phase: String, Codable, Sendable {
        case start, update, end
    }

    @LowercaseUUID public var episodeId: UUID
    /// Geohash cell (precision 6).
    public var cell: String
    /// The area the cell's incidents fall in (the most frequent one).
    public var area: String
    public var phase: Phase
    /// Incidents in the cell over the trailing 7 days.
    public var count7d: Int
    /// Expected 7-day count from the cell's own trailing 28-day baseline.
    public var baseline28d: Double
    /// Poisson upper-tail probability of `count7d` given `baseline28d`.
    public var pValue: Double
    public var startedAt: Date
    public var updatedAt: Date?
    public var endedAt: Date?

    public init(
        episodeId: UUID, cell: String, area: String, phase: Phase, count7d: Int, baseline28d: Double, pValue: Double,
        startedAt: Date, updatedAt: Date? = nil, endedAt: Date? = nil
    ) {
        self.episodeId = episodeId
        self.cell = cell
        self.area = area
        self.phase = phase
        self.count7d = count7d
        self.baseline28d = baseline28d
        self.pValue = pValue
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.endedAt = endedAt
    }

    // `CoalitionJSON` converts keys between snake_case and camelCase, but "count_7d" does not
    // survive the round trip (it reads as "count7D" and "count7d" writes as "count7d"):
    // written keys are spelled out, read keys are what the decoder's conversion produces.
    private enum WrittenKeys: String, CodingKey {
        case episodeId, cell, area, phase, count7d = "count_7d", baseline28d = "baseline_28d", pValue, startedAt, updatedAt, endedAt
    }

    private enum ReadKeys: String, CodingKey {
        case episodeId, cell, area, phase, count7d = "count7D", baseline28d = "baseline28D", pValue, startedAt, updatedAt, endedAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: ReadKeys.self)
        _episodeId = try container.decode(LowercaseUUID.self, forKey: .episodeId)
        cell = try container.decode(String.self, forKey: .cell)
        area = try container.decode(String.self, forKey: .area)
        phase = try container.decode(Phase.self, forKey: .phase)
        count7d = try container.decode(Int.self, forKey: .count7d)
        baseline28d = try container.decode(Double.self, forKey: .baseline28d)
        pValue = try container.decode(Double.self, forKey: .pValue)
        startedAt = try container.decode(Date.self, forKey: .startedAt)
        updatedAt = try container.decodeIfPresent(Date.self, forKey: .updatedAt)
        endedAt = try container.decodeIfPresent(Date.self, forKey: .endedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: WrittenKeys.self)
        try container.encode(_episodeId, forKey: .episodeId)
        try container.encode(cell, forKey: .cell)
        try container.encode(area, forKey: .area)
        try container.encode(phase, forKey: .phase)
        try container.encode(count7d, forKey: .count7d)
        try container.encode(baseline28d, forKey: .baseline28d)
        try container.encode(pValue, forKey: .pValue)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encodeIfPresent(updatedAt, forKey: .updatedAt)
        // `ended_at` is always present (null while the episode is open), as the contract shows.
        if let endedAt { try container.encode(endedAt, forKey: .endedAt) } else { try container.encodeNil(forKey: .endedAt) }
    }
}
