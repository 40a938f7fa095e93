import ServiceKit

/// Settings of `incident-ingestion`, read from `COALITION_*` variables (README, "Configuration").
struct IncidentIngestionConfiguration: ServiceConfiguration {
    var common: CommonConfiguration

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "incident-ingestion", defaultHTTPPort: 8081)
    }
}
