/// The window sizes every metric is kept at (SPEC §8).
public enum Granularity: String, CaseIterable, Sendable, Codable {
    case hour, day, week, month
}
