import IncidentIngestion
import ServiceKit

/// `incident-ingestion`: takes incidents in (HTTP now; Kafka, Open311 and CSV through the
/// same validation, normalization and store) and publishes the canonical stream on
/// `incidents.normalized` through the outbox.
@main
enum IncidentIngestionMain {
    static func main() async {
        await ServiceRuntime.main(IncidentIngestionConfiguration.self) { configuration, context in
            let store = IncidentStore(postgres: context.postgres, logger: context.logger)
            IncidentRoutes(
                store: store, sources: SourceRegistry(postgres: context.postgres), postgres: context.postgres,
                operatorToken: configuration.common.operatorToken
            ).register(on: context.router)
            return []
        }
    }
}
