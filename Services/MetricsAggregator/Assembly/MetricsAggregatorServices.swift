import Foundation
import Kafka
import ServiceKit
import ServiceLifecycle

/// The aggregator's parts wired together: one store, the intake (consumer + flushes), the
/// publisher and the HTTP routes.
public struct MetricsAggregatorServices {
    public let store: MetricsStore
    public let all: [any Service]

    public init(
        configuration: CommonConfiguration, grace: Duration, k: Int, flushSize: Int, flushInterval: Duration, prefetchKilobytes: Int,
        context: RuntimeContext
    ) throws {
        let suppression = SuppressionRule(k: k)
        let groupID = configuration.consumerGroup(MetricsIntake.consumerGroup)
        let store = MetricsStore(
            postgres: context.postgres, consumer: groupID, calendar: WindowCalendar(timeZone: configuration.timeZone), grace: grace,
            logger: context.logger)
        let consumer = try MetricsIntake.makeConsumer(
            configuration, store: store, logger: context.logger, maximumBatchSize: min(flushSize, 2000), prefetchKilobytes: prefetchKilobytes)
        let intake = MetricsIntake(
            consumer: consumer, store: store, producer: context.producer, groupID: groupID, topicPrefix: configuration.topicPrefix,
            flushSize: flushSize, flushDelay: flushInterval, logger: context.logger)
        let publisher = MetricPublisher(
            postgres: context.postgres, producer: context.producer, dimensions: store.dimensions, topicPrefix: configuration.topicPrefix,
            suppression: suppression, signal: store.signal, pollInterval: configuration.outboxPollInterval, logger: context.logger)
        MetricsRoutes(postgres: context.postgres, dimensions: store.dimensions, calendar: store.calendar, operatorToken: configuration.operatorToken,
                      suppression: suppression)
            .register(on: context.router)
        self.store = store
        self.all = [consumer, intake, publisher]
    }
}
