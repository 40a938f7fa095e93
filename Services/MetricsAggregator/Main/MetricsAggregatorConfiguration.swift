import ServiceKit

/// Settings of `metrics-aggregator`, read from `COALITION_*` variables (README, "Configuration").
struct MetricsAggregatorConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    /// `COALITION_METRICS_GRACE`: event time after a window's end before it is announced final.
    var grace: Duration
    /// `COALITION_METRICS_K`: public outputs withhold counts below this (SPEC §6).
    var k: Int
    /// `COALITION_METRICS_BATCH_SIZE`: most records applied in one transaction (one flush).
    var flushSize: Int
    /// `COALITION_METRICS_FLUSH_INTERVAL`: the longest a record waits for its flush to start.
    var flushInterval: Duration
    /// `COALITION_METRICS_PREFETCH_KB`: records librdkafka may fetch ahead of the aggregator.
    var prefetchKilobytes: Int

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "metrics-aggregator", defaultHTTPPort: 8084)
        grace = try environment.duration("COALITION_METRICS_GRACE", default: .seconds(7 * 24 * 3600))
        k = try environment.int("COALITION_METRICS_K", default: 3, range: 1...1000)
        flushSize = try environment.int("COALITION_METRICS_BATCH_SIZE", default: 20_000, range: 1...200_000)
        flushInterval = try environment.duration("COALITION_METRICS_FLUSH_INTERVAL", default: .milliseconds(100))
        prefetchKilobytes = try environment.int("COALITION_METRICS_PREFETCH_KB", default: 8192, range: 1024...1_048_576)
    }
}
