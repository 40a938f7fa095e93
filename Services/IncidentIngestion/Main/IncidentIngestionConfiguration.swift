import IncidentIngestion
import ServiceKit

/// Settings of `incident-ingestion`, read from `COALITION_*` variables (README, "Configuration").
struct IncidentIngestionConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    /// `COALITION_INGESTION_RATE_LIMIT`: incidents per second each source may send over HTTP
    /// (a fraction such as `0.5` allows one every two seconds).
    var rateLimit: Double
    /// `COALITION_INGESTION_BURST`: how many incidents a source may send at once above the rate.
    var burst: Int
    /// `COALITION_INGESTION_BATCH_SIZE`: most `incidents.raw` records stored in one transaction.
    var batchSize: Int
    /// `COALITION_INGESTION_WRITERS`: transactions storing one `incidents.raw` batch side by side.
    var writers: Int

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "incident-ingestion", defaultHTTPPort: 8081)
        rateLimit = try environment.double("COALITION_INGESTION_RATE_LIMIT", default: 5000, range: 0.001...10_000_000)
        burst = try environment.int("COALITION_INGESTION_BURST", default: 20000, range: 1...10_000_000)
        batchSize = try environment.int("COALITION_INGESTION_BATCH_SIZE", default: RawIncidentIntake.defaultBatchSize, range: 1...20_000)
        writers = try environment.int("COALITION_INGESTION_WRITERS", default: RawIncidentIntake.defaultWriters, range: 1...8)
    }
}
