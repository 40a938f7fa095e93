import Foundation
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Sends due deliveries: claims a batch (leased, so several instances share the work and a
/// crash hands it back), sends them concurrently, records each result. Wakes on
/// `coalition_deliveries` notifications and at least every `pollInterval`.
public struct DeliveryWorker: Service {
    public struct Settings: Sendable {
        public var concurrency: Int
        public var lease: Duration
        public var pollInterval: Duration
        public var retry: RetrySchedule
        public var disableAfterFailures: Int
        /// Most new notifications per channel per hour (`nil`: no limit).
        public var perRecipientHourlyLimit: Int?
        /// Sending rounds that may overlap in one process.
        public var parallelRounds: Int = 3

        public init(concurrency: Int = 64, lease: Duration = .seconds(30), pollInterval: Duration = .milliseconds(250),
                    retry: RetrySchedule = RetrySchedule(), disableAfterFailures: Int = 20, perRecipientHourlyLimit: Int? = nil) {
            self.perRecipientHourlyLimit = perRecipientHourlyLimit
            self.concurrency = concurrency
            self.lease = lease
            self.pollInterval = pollInterval
            self.retry = retry
            self.disableAfterFailures = disableAfterFailures
        }
    }

    let store: DeliveryStore
    let webhook: WebhookSender
    /// `nil` when the deployment configures no SMTP server / SMS gateway: such deliveries end `suppressed`.
    let email: EmailSender?
    let sms: SMSSender?
    let settings: Settings
    let logger: Logger

    public init(store: DeliveryStore, webhook: WebhookSender, email: EmailSender?, sms: SMSSender?, settings: Settings, logger: Logger) {
        self.store = store
        self.webhook = webhook
        self.email = email
        self.sms = sms
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        let wake = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let notifications = try await store.postgres.listen(channel: "coalition_deliveries", onReconnect: { wake.continuation.yield() })
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in notifications { wake.continuation.yield() }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: settings.pollInterval)
                        wake.continuation.yield()
                    }
                }
                // Extra senders while there is a backlog: claims skip each other's rows, so
                // rounds overlap (one claims and records while another waits on receivers).
                for _ in 1..<max(1, settings.parallelRounds) {
                    group.addTask {
                        while !Task.isCancelled {
                            if (try? await round()) ?? 0 < settings.concurrency {
                                try? await Task.sleep(for: settings.pollInterval)
                            }
                        }
                    }
                }
                var lastRecovery = ContinuousClock.now - .seconds(3600)
                for await _ in wake.stream {
                    if Task.isCancelled { break }
                    do {
                        if ContinuousClock.now - lastRecovery > .seconds(5) {
                            let recovered = try await store.recoverExpiredLeases()
                            if recovered > 0 { logger.warning("recovered deliveries whose sender stopped", metadata: ["count": "\(recovered)"]) }
                            lastRecovery = .now
                        }
                        // Drain: keep claiming while full batches come back.
                        while !Task.isCancelled, try await round() == settings.concurrency {}
                    } catch {
                        logger.warning("delivery round failed; will retry", metadata: ["error": "\(error)"])
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.continuation.finish()
        }
    }

    /// Claims due notifications, sends them concurrently and records the results; returns how
    /// many were claimed.
    func round() async throws -> Int {
        let claimed = try await store.claimDue(limit: settings.concurrency, lease: settings.lease, rateLimit: settings.perRecipientHourlyLimit)
        guard !claimed.isEmpty else { return 0 }
        let results = await withTaskGroup(of: (DeliveryStore.Result, DeliveryStore.Claimed).self) { sends in
            for delivery in claimed { sends.addTask { (await outcome(of: delivery), delivery) } }
            var results: [(DeliveryStore.Result, DeliveryStore.Claimed)] = []
            for await result in sends { results.append(result) }
            return results
        }
        await record(results)
        return claimed.count
    }

    /// One transaction for the round; if that fails, one per notification, so one bad row
    /// cannot hold back the others (whatever is still unrecorded is retried when its lease
    /// expires, under the same id).
    func record(_ results: [(DeliveryStore.Result, DeliveryStore.Claimed)]) async {
        do {
            try await store.recordAll(results, disableAfterFailures: settings.disableAfterFailures)
        } catch {
            logger.warning("recording a round failed; recording one by one", metadata: ["error": "\(error)"])
            for (result, delivery) in results {
                do {
                    try await store.record(result, for: delivery, disableAfterFailures: settings.disableAfterFailures)
                } catch {
                    logger.error("could not record a delivery result", metadata: ["notification.id": "\(delivery.id)", "error": "\(error)"])
                }
            }
        }
    }

    func outcome(of delivery: DeliveryStore.Claimed) async -> DeliveryStore.Result {
        guard let address = delivery.address, !delivery.channelDisabled else {
            return .suppressed("the channel is disabled or was removed")
        }
        let answer: TransportAnswer
        switch delivery.channelType {
        case .webhook:
            answer = await webhook.send(to: address, id: delivery.id.uuidString.lowercased(), body: delivery.body, secrets: delivery.secrets)
        case .email:
            guard let email else { return .suppressed("no email transport is configured in this deployment (COALITION_SMTP_URL)") }
            answer = await email.send(delivery, to: address)
        case .sms:
            guard let sms else { return .suppressed("no SMS gateway is configured in this deployment (COALITION_SMS_BASE_URL)") }
            answer = await sms.send(delivery, to: address)
        }
        switch answer {
        case .delivered(let status):
            return .delivered(status: status)
        case .gone(let status):
            return .failedAndDisable(status: status, error: "receiver answered 410 Gone", reason: "the endpoint answered 410 Gone")
        case .refused(let why):
            return .failed(status: nil, error: "target refused: \(why)")
        case .rejected(let status, let error):
            return .failed(status: status, error: error)
        case .failed(let status, let retryAfter, let error):
            guard let next = settings.retry.nextAttempt(
                afterAttempt: delivery.attempts, firstCreated: delivery.createdAt, now: Date(), retryAfter: retryAfter)
            else { return .failed(status: status, error: "\(error); gave up after \(delivery.attempts) attempts") }
            return .retry(at: next, status: status, error: error)
        }
    }
}
