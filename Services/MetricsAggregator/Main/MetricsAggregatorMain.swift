import MetricsAggregator
import ServiceKit

/// `metrics-aggregator`: turns events into windowed metrics, trends and hotspots.
///
/// Services, in start order: the `incidents.normalized` consumer (starting where the stored
/// counts end) and the intake applying its batches; the query API is on the runtime's router.
@main
enum MetricsAggregatorMain {
    static func main() async {
        await ServiceRuntime.main(MetricsAggregatorConfiguration.self) { configuration, context in
            let common = configuration.common
            let suppression = SuppressionRule(k: configuration.k)
            let groupID = common.consumerGroup(IncidentCountIntake.consumerGroup)
            let store = IncidentCountStore(
                postgres: context.postgres, consumer: groupID, calendar: WindowCalendar(timeZone: common.timeZone),
                grace: configuration.grace, suppression: suppression, logger: context.logger)
            MetricsRoutes(postgres: context.postgres, operatorToken: common.operatorToken, suppression: suppression).register(on: context.router)
            let consumer = try IncidentCountIntake.makeConsumer(common, store: store, logger: context.logger, maximumBatchSize: configuration.batchSize)
            let intake = IncidentCountIntake(consumer: consumer, store: store, producer: context.producer, groupID: groupID, logger: context.logger)
            return [consumer, intake]
        }
    }
}
