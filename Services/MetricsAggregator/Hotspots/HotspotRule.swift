import Foundation

/// When a geohash-6 cell is a hotspot: its trailing 7-day count is at least `minimumCount`
/// and improbable (Poisson upper tail below `significance`) given its own baseline, the
/// 28 days before those 7, scaled to 7 days.
///
/// The baseline rate is measured over the part of those 28 days the aggregator has seen
/// incidents for: a deployment (or an import) with two weeks of history has a two-week
/// baseline, not a 28-day one diluted by days it knows nothing about. With less than a week
/// of baseline there is no judgement at all.
///
/// Every active cell is tested at once, so at p < 0.01 one cell in a hundred would be flagged
/// by chance alone. `familyWise` (the default) holds the 0.01 for the whole family instead
/// (Bonferroni: each cell needs p < 0.01 / active cells), so a normal week raises nothing.
public struct HotspotRule: Sendable, Equatable {
    public var minimumCount: Int = 5
    public var significance: Double = 0.01
    public var trailing: TimeInterval = 7 * 86_400
    public var baseline: TimeInterval = 28 * 86_400
    public var minimumBaselineCoverage: TimeInterval = 7 * 86_400
    public var familyWise = true

    public init() {}

    public struct Evaluation: Sendable, Equatable {
        public var count7d: Int
        /// Expected 7-day count from the baseline.
        public var expected: Double
        public var pValue: Double
        /// Significant taken alone (p below `significance`, count at least `minimumCount`).
        public var significant: Bool
    }

    /// Whether `evaluation` stands when `activeCells` cells were tested together.
    public func significant(_ evaluation: Evaluation, activeCells: Int) -> Bool {
        guard evaluation.significant else { return false }
        return !familyWise || evaluation.pValue < significance / Double(max(1, activeCells))
    }

    /// `recent` incidents in (T − 7 d, T], `earlier` in (T − 35 d, T − 7 d], history since `firstSeen`.
    public func evaluate(recent: Int, earlier: Int, at reference: Date, firstSeen: Date?) -> Evaluation? {
        let baselineEnd = reference.addingTimeInterval(-trailing)
        let baselineStart = baselineEnd.addingTimeInterval(-baseline)
        guard let firstSeen else { return nil }
        let coverage = baselineEnd.timeIntervalSince(max(baselineStart, firstSeen))
        guard coverage >= minimumBaselineCoverage else { return nil }
        let expected = Double(earlier) * trailing / coverage
        let pValue = PoissonTail.probability(atLeast: recent, mean: expected)
        return Evaluation(count7d: recent, expected: expected, pValue: pValue, significant: recent >= minimumCount && pValue < significance)
    }
}
