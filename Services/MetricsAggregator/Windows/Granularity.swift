/// The window sizes every metric is kept at (SPEC §8).
public enum Granularity: String, CaseIterable, Sendable, Codable {
    case hour, day, week, month

    /// `metric_values.granularity` and the update log's entries.
    var code: Int16 {
        switch self {
        case .hour: 0
        case .day: 1
        case .week: 2
        case .month: 3
        }
    }

    init?(code: Int16) {
        guard (0...3).contains(code) else { return nil }
        self = Self.allCases[Int(code)]
    }
}
