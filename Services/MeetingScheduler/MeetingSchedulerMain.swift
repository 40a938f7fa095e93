import ServiceKit

/// `meeting-scheduler`: schedules coalition meetings with the representation they need.
///
/// The platform runtime already gives it PostgreSQL (migrated), the Kafka producer, the
/// outbox relay and the operational HTTP endpoints; its own intake and processing services
/// are added to the list below.
@main
enum MeetingSchedulerMain {
    static func main() async {
        await ServiceRuntime.main(MeetingSchedulerConfiguration.self) { _, _ in [] }
    }
}
