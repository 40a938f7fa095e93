import MeetingScheduler
import ServiceKit

/// Settings of `meeting-scheduler`, read from `COALITION_*` variables (README, "Configuration").
struct MeetingSchedulerConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    /// `COALITION_SCHEDULER_BOOKING_ATTEMPTS`: how often a request is planned again after a
    /// concurrent request took its slot first (then 409).
    var bookingAttempts: Int
    /// `COALITION_TIMEZONE` (emergency meetings are planned in it), `COALITION_SCHEDULER_EMERGENCY_NOTICE`
    /// (earliest start after the episode, default 1h) and `_EMERGENCY_DURATION` (default 1h).
    var emergency: EmergencyPolicy

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "meeting-scheduler", defaultHTTPPort: 8083)
        bookingAttempts = try environment.int("COALITION_SCHEDULER_BOOKING_ATTEMPTS", default: 60, range: 1...1000)
        let duration = try environment.duration("COALITION_SCHEDULER_EMERGENCY_DURATION", default: .seconds(3600))
        guard duration >= .seconds(900), duration <= .seconds(8 * 3600) else {
            throw ConfigurationError(variable: "COALITION_SCHEDULER_EMERGENCY_DURATION", message: "must be between 15m and 8h")
        }
        let notice = try environment.duration("COALITION_SCHEDULER_EMERGENCY_NOTICE", default: .seconds(3600))
        guard notice >= .zero, notice + duration <= .seconds(72 * 3600) else {
            throw ConfigurationError(variable: "COALITION_SCHEDULER_EMERGENCY_NOTICE", message: "notice plus meeting must fit in 72h")
        }
        emergency = EmergencyPolicy(timeZone: common.timeZone, notice: notice, duration: duration)
    }
}
