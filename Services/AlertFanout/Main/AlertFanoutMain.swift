import ServiceKit

/// `alert-fanout`: matches incidents to subscriptions and delivers alerts by webhook, email and SMS.
///
/// The platform runtime already gives it PostgreSQL (migrated), the Kafka producer, the
/// outbox relay and the operational HTTP endpoints; its own intake and processing services
/// are added to the list below.
@main
enum AlertFanoutMain {
    static func main() async {
        await ServiceRuntime.main(AlertFanoutConfiguration.self) { _, _ in [] }
    }
}
