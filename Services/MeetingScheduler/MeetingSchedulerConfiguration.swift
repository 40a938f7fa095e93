import ServiceKit

/// Settings of `meeting-scheduler`, read from `COALITION_*` variables (README, "Configuration").
struct MeetingSchedulerConfiguration: ServiceConfiguration {
    var common: CommonConfiguration

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "meeting-scheduler", defaultHTTPPort: 8083)
    }
}
