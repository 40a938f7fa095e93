import ServiceKit

/// `incident-ingestion`: takes incidents in over HTTP, Kafka, Open311 and CSV and publishes the canonical stream.
///
/// The platform runtime already gives it PostgreSQL (migrated), the Kafka producer, the
/// outbox relay and the operational HTTP endpoints; its own intake and processing services
/// are added to the list below.
@main
enum IncidentIngestionMain {
    static func main() async {
        await ServiceRuntime.main(IncidentIngestionConfiguration.self) { _, _ in [] }
    }
}
