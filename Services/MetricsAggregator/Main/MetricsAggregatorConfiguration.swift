import ServiceKit

/// Settings of `metrics-aggregator`, read from `COALITION_*` variables (README, "Configuration").
struct MetricsAggregatorConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    /// `COALITION_METRICS_GRACE`: event time after a window's end before it is announced final.
    var grace: Duration
    /// `COALITION_METRICS_K`: public outputs withhold counts below this (SPEC §6).
    var k: Int
    /// `COALITION_METRICS_BATCH_SIZE`: most records applied in one transaction.
    var batchSize: Int

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "metrics-aggregator", defaultHTTPPort: 8084)
        grace = try environment.duration("COALITION_METRICS_GRACE", default: .seconds(7 * 24 * 3600))
        k = try environment.int("COALITION_METRICS_K", default: 3, range: 1...1000)
        batchSize = try environment.int("COALITION_METRICS_BATCH_SIZE", default: 2000, range: 1...100_000)
    }
}
