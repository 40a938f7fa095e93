import ServiceKit

/// Settings of `meeting-scheduler`, read from `COALITION_*` variables (README, "Configuration").
struct MeetingSchedulerConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    /// `COALITION_SCHEDULER_BOOKING_ATTEMPTS`: how often a request is planned again after a
    /// concurrent request took its slot first (then 409).
    var bookingAttempts: Int

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "meeting-scheduler", defaultHTTPPort: 8083)
        bookingAttempts = try environment.int("COALITION_SCHEDULER_BOOKING_ATTEMPTS", default: 60, range: 1...1000)
    }
}
