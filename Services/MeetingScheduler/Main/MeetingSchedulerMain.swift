import MeetingScheduler
import ServiceKit

/// `meeting-scheduler`: schedules coalition meetings with the representation they need.
///
/// Services, in start order: the `metrics.hotspots` consumer and the emergency-meeting intake;
/// the HTTP API is on the runtime's router.
@main
enum MeetingSchedulerMain {
    static func main() async {
        await ServiceRuntime.main(MeetingSchedulerConfiguration.self) { configuration, context in
            let planner = MeetingPlanner(postgres: context.postgres, logger: context.logger, maximumAttempts: configuration.bookingAttempts)
            let store = MeetingStore(postgres: context.postgres, planner: planner)
            SchedulerRoutes(store: store, directory: SchedulingDirectory(postgres: context.postgres), operatorToken: configuration.common.operatorToken)
                .register(on: context.router)
            let consumer = try HotspotIntake.makeConsumer(configuration.common, logger: context.logger)
            let intake = HotspotIntake(
                consumer: consumer, store: store, policy: configuration.emergency, producer: context.producer,
                groupID: configuration.common.consumerGroup(HotspotIntake.consumerGroup), logger: context.logger)
            return [consumer, intake]
        }
    }
}
