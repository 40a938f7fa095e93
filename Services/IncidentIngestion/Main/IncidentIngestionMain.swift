import IncidentIngestion
import ServiceKit

/// `incident-ingestion`: takes incidents in (HTTP, Kafka `incidents.raw`, Open311, and CSV via the
/// CLI — all through the same validation, normalization and store) and publishes the canonical stream on
/// `incidents.normalized` through the outbox.
@main
enum IncidentIngestionMain {
    static func main() async {
        await ServiceRuntime.main(IncidentIngestionConfiguration.self) { configuration, context in
            let store = IncidentStore(postgres: context.postgres, logger: context.logger)
            let rateLimiter = SourceRateLimiter(rate: configuration.rateLimit, burst: Double(configuration.burst))
            IncidentRoutes(
                store: store, sources: SourceRegistry(postgres: context.postgres), postgres: context.postgres,
                operatorToken: configuration.common.operatorToken,
                rateLimiter: rateLimiter
            ).register(on: context.router)
            Open311Routes(store: store, sources: SourceRegistry(postgres: context.postgres), postgres: context.postgres, rateLimiter: rateLimiter)
                .register(on: context.router)
            let consumer = try RawIncidentIntake.makeConsumer(configuration.common, batchSize: configuration.batchSize, logger: context.logger)
            let intake = RawIncidentIntake(
                consumer: consumer, producer: context.producer, store: store,
                groupID: configuration.common.consumerGroup(RawIncidentIntake.consumerGroup), writers: configuration.writers, logger: context.logger)
            // Shutdown runs in reverse: the intake stops first, then the consumer commits and leaves.
            return [consumer, intake]
        }
    }
}
