import ServiceKit

/// Settings of `alert-fanout`, read from `COALITION_*` variables (README, "Configuration").
struct AlertFanoutConfiguration: ServiceConfiguration {
    var common: CommonConfiguration

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "alert-fanout", defaultHTTPPort: 8082)
    }
}
