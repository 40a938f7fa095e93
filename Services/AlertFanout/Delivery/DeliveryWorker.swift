import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import Postgres
import ServiceLifecycle

/// Sends due deliveries as a continuous pipeline: a claimer takes due notifications (leased,
/// so several instances share the work and a crash hands it back) whenever there is room for
/// more in flight, each one is sent by its own task the moment it is claimed, and a recorder
/// writes whatever results have come back in one transaction, again and again. Nothing waits
/// for the slowest receiver of a batch. Wakes on `coalition_deliveries` notifications, when
/// results are recorded (room was freed) and at least every `pollInterval`.
public struct DeliveryWorker: Service {
    public struct Settings: Sendable {
        /// Notifications claimed and not yet recorded, at most.
        public var concurrency: Int
        public var lease: Duration
        public var pollInterval: Duration
        public var retry: RetrySchedule
        public var disableAfterFailures: Int
        /// Most new notifications per channel per hour (`nil`: no limit).
        public var perRecipientHourlyLimit: Int?
        /// Most notifications one claim takes. A claim is one transaction whatever its size, so
        /// under load a claim takes all the room the last recording freed.
        public var claimBatch: Int = 256

        public init(concurrency: Int = 256, lease: Duration = .seconds(30), pollInterval: Duration = .milliseconds(250),
                    retry: RetrySchedule = RetrySchedule(), disableAfterFailures: Int = 20, perRecipientHourlyLimit: Int? = nil) {
            self.perRecipientHourlyLimit = perRecipientHourlyLimit
            self.concurrency = concurrency
            self.lease = lease
            self.pollInterval = pollInterval
            self.retry = retry
            self.disableAfterFailures = disableAfterFailures
        }
    }

    /// What the senders hand the recorder, and how much is claimed but not yet recorded.
    struct Pipeline {
        var unrecorded = 0
        var results: [(DeliveryStore.Result, DeliveryStore.Claimed)] = []
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
        let resultsReady = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let pipeline = NIOLockedValueBox(Pipeline())
        let notifications = try await store.postgres.listen(channel: "coalition_deliveries", onReconnect: { wake.continuation.yield() })
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    for try await _ in notifications { wake.continuation.yield() }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: settings.pollInterval)
                        wake.continuation.yield()
                    }
                }
                // The recorder: everything that came back since its last write, in one transaction.
                group.addTask {
                    for await _ in resultsReady.stream {
                        let batch = pipeline.withLockedValue { state in
                            defer { state.results.removeAll(keepingCapacity: true) }
                            return state.results
                        }
                        guard !batch.isEmpty else { continue }
                        await record(batch)
                        pipeline.withLockedValue { $0.unrecorded -= batch.count }
                        wake.continuation.yield()
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
                        // Claim while there is room and claims stop at their limit (more is due).
                        while !Task.isCancelled {
                            let room = min(settings.claimBatch, settings.concurrency - pipeline.withLockedValue { $0.unrecorded })
                            guard room > 0 else { break }
                            let claim = try await store.claimDue(limit: room, lease: settings.lease, rateLimit: settings.perRecipientHourlyLimit)
                            pipeline.withLockedValue { $0.unrecorded += claim.notifications.count }
                            for delivery in claim.notifications {
                                group.addTask {
                                    let result = await outcome(of: delivery)
                                    pipeline.withLockedValue { $0.results.append((result, delivery)) }
                                    resultsReady.continuation.yield()
                                }
                            }
                            if !claim.reachedLimit { break }
                        }
                    } catch {
                        logger.warning("claiming deliveries failed; will retry", metadata: ["error": "\(error)"])
                    }
                }
                // Shutting down: no new claims; let what is in flight finish (each send is
                // bounded by its timeout) and be recorded, so nothing waits for a lease to expire.
                while pipeline.withLockedValue({ $0.unrecorded }) > 0 && !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.continuation.finish()
        }
    }

    /// One transaction for what came back; if that fails, one per notification, so one bad row
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
