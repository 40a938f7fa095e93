import AlertFanout
import ServiceKit

/// `alert-fanout`: matches incidents to subscriptions and delivers alerts.
///
/// Services, in start order: the subscription index (loaded before anything is consumed),
/// the `incidents.normalized` consumer and intake, and the delivery worker.
@main
enum AlertFanoutMain {
    static func main() async {
        await ServiceRuntime.main(AlertFanoutConfiguration.self) { configuration, context in
            let directory = StakeholderDirectory(postgres: context.postgres)
            let deliveries = DeliveryStore(postgres: context.postgres, logger: context.logger)
            let capFeed = CAPFeed(postgres: context.postgres, sender: configuration.capSender)
            FanoutRoutes(
                directory: directory, deliveries: deliveries, capFeed: capFeed, operatorToken: configuration.common.operatorToken,
                allowHTTPWebhooks: configuration.allowHTTPWebhooks, rotationOverlap: configuration.secretOverlap,
                publicURL: configuration.publicURL
            ).register(on: context.router)
            let catalog = SubscriptionCatalog(postgres: context.postgres, logger: context.logger)
            try await catalog.reload()
            let consumer = try IncidentAlertIntake.makeConsumer(configuration.common, logger: context.logger)
            let intake = IncidentAlertIntake(
                consumer: consumer, catalog: catalog, postgres: context.postgres, producer: context.producer,
                groupID: configuration.common.consumerGroup(IncidentAlertIntake.consumerGroup),
                maximumAge: configuration.maximumIncidentAge, policy: configuration.policy, capFeed: capFeed, logger: context.logger)
            let worker = DeliveryWorker(
                store: deliveries,
                webhook: WebhookSender(timeout: configuration.webhookTimeout, guardian: TargetGuard(allowed: configuration.allowedNetworks)),
                email: configuration.smtp.map { EmailSender(settings: $0, from: configuration.mailFrom) },
                sms: configuration.sms.map { SMSSender(settings: $0) },
                settings: .init(
                    concurrency: configuration.concurrency, lease: configuration.lease, pollInterval: configuration.pollInterval,
                    retry: configuration.retry, disableAfterFailures: configuration.disableAfterFailures,
                    perRecipientHourlyLimit: configuration.perRecipientHourlyLimit == 0 ? nil : configuration.perRecipientHourlyLimit),
                logger: context.logger)
            let requestConsumer = try AlertRequestIntake.makeConsumer(configuration.common, logger: context.logger)
            let requests = AlertRequestIntake(
                consumer: requestConsumer, postgres: context.postgres, producer: context.producer,
                groupID: configuration.common.consumerGroup(AlertRequestIntake.consumerGroup), logger: context.logger)
            return [catalog, consumer, intake, requestConsumer, requests, worker]
        }
    }
}
