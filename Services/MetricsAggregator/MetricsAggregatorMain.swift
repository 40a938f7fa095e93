import ServiceKit

/// `metrics-aggregator`: turns events into windowed metrics, trends and hotspots.
///
/// The platform runtime already gives it PostgreSQL (migrated), the Kafka producer, the
/// outbox relay and the operational HTTP endpoints; its own intake and processing services
/// are added to the list below.
@main
enum MetricsAggregatorMain {
    static func main() async {
        await ServiceRuntime.main(MetricsAggregatorConfiguration.self) { _, _ in [] }
    }
}
