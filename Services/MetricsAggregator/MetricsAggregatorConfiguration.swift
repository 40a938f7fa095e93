import ServiceKit

/// Settings of `metrics-aggregator`, read from `COALITION_*` variables (README, "Configuration").
struct MetricsAggregatorConfiguration: ServiceConfiguration {
    var common: CommonConfiguration

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "metrics-aggregator", defaultHTTPPort: 8084)
    }
}
