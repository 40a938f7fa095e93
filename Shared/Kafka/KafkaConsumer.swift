import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import NIOConcurrencyHelpers

/// A consumer-group member delivering batches of records as an `AsyncSequence`.
///
/// At-least-once: offsets are stored only for records the application passes to
/// `markProcessed`, and stored offsets are committed periodically, when partitions are
/// revoked and on shutdown. When the application falls behind, fetching pauses
/// (`rd_kafka_pause_partitions`) while the group membership stays alive.
///
/// Run it as a `Service` (or call `run()` in a task): the consume thread lives inside `run()`.
public final class KafkaConsumer: Service, Sendable {
    public typealias Batches = NIOAsyncSequenceProducer<
        [KafkaMessage], NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BackPressureDelegate
    >

    private let client: RDKafkaClient
    private let configuration: KafkaConsumerConfiguration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>
    private let source: Batches.Source
    private let completion = Completion()
    /// The records, in batches. Iterate it once.
    public let batches: Batches

    struct State {
        var started = false
        var stopRequested = false
        /// Set when the buffer ahead of the application is full, cleared when it drains.
        var backPressured = false
    }

    public init(configuration: KafkaConsumerConfiguration, logger: Logger) throws(KafkaError) {
        var logger = logger
        logger[metadataKey: "kafka.group"] = "\(configuration.groupID)"
        let statistics = KafkaStatistics(clientID: configuration.kafka.clientID, role: "consumer")
        self.client = try RDKafkaClient(kind: .consumer, properties: configuration.librdkafkaProperties, logger: logger, statistics: statistics)
        client.redirectMainQueueToConsumer()
        client.context.startOffsets.withLockedValue { $0 = configuration.startOffsets }
        self.configuration = configuration
        self.logger = logger
        let state = NIOLockedValueBox(State())
        self.state = state
        let delegate = BackPressureDelegate(state: state)
        let sequence = Batches.makeSequence(
            elementType: [KafkaMessage].self,
            backPressureStrategy: .init(lowWatermark: max(1, configuration.bufferedBatches / 2), highWatermark: max(2, configuration.bufferedBatches)),
            finishOnDeinit: false,
            delegate: delegate)
        self.source = sequence.source
        self.batches = sequence.sequence
    }

    /// Called on the consume thread after each rebalance (tests and metrics use it).
    public func onRebalance(_ observer: @escaping @Sendable (KafkaRebalanceEvent) -> Void) {
        client.context.rebalanceObserver.withLockedValue { $0 = observer }
    }

    /// Records that `messages` are processed: their offsets will be committed.
    public func markProcessed(_ messages: some Sequence<KafkaMessage>) throws(KafkaError) {
        var next: [KafkaTopicPartition: Int64] = [:]
        for message in messages {
            let partition = KafkaTopicPartition(topic: message.topic, partition: message.partition)
            next[partition] = max(next[partition] ?? 0, message.offset + 1)
        }
        guard !next.isEmpty else { return }
        try client.storeOffsets(next)
    }

    public func markProcessed(_ message: KafkaMessage) throws(KafkaError) {
        try markProcessed(CollectionOfOne(message))
    }

    /// Commits every stored offset now (blocking call, off the cooperative pool).
    public func commit() async throws(KafkaError) {
        try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.commitStored() }
    }

    /// The group's committed offsets for `partitions` (next offset to read; negative = none).
    public func committedOffsets(_ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.committedOffsets(partitions, timeoutMs: milliseconds) }
    }

    public func assignment() -> [KafkaTopicPartition] { client.assignment() }

    /// Subscribes and consumes until graceful shutdown or cancellation, then commits what was
    /// processed and leaves the group.
    public func run() async throws {
        let alreadyStarted = state.withLockedValue { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { throw KafkaError(.closed, "consumer is already running") }
        try client.subscribe(topics: configuration.topics)
        let thread = Thread { [client, source, state, logger, completion, configuration] in
            Self.consumeLoop(client: client, source: source, state: state, logger: logger, maximumBatchSize: configuration.maximumBatchSize)
            completion.finish()
        }
        thread.name = "kafka-consumer-\(configuration.groupID)"
        thread.start()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await completion.wait()
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            self.stop()
        }
    }

    /// Asks the consume thread to commit, leave the group and finish `batches`.
    public func stop() {
        state.withLockedValue { $0.stopRequested = true }
    }

    private static func consumeLoop(client: RDKafkaClient, source: Batches.Source, state: NIOLockedValueBox<State>, logger: Logger, maximumBatchSize: Int) {
        var paused: [KafkaTopicPartition] = []
        while true {
            let (stop, backPressured) = state.withLockedValue { ($0.stopRequested, $0.backPressured) }
            if stop { break }
            if backPressured {
                // Keep polling (heartbeats, rebalances) but fetch nothing until the buffer drains.
                let assignment = client.assignment()
                if Set(assignment) != Set(paused) {
                    client.setPaused(true, partitions: assignment)
                    paused = assignment
                }
            } else if !paused.isEmpty {
                client.setPaused(false, partitions: paused)
                paused = []
            }
            let (messages, errors) = client.consumeBatch(maximum: maximumBatchSize, timeoutMs: 100)
            for error in errors {
                logger.warning("consume error", metadata: ["error": "\(error)"])
            }
            guard !messages.isEmpty else { continue }
            switch source.yield(contentsOf: CollectionOfOne(messages)) {
            case .produceMore: break
            case .stopProducing: state.withLockedValue { $0.backPressured = true }
            case .dropped:
                // Nobody iterates any more: records fetched but not handed over will be
                // fetched again by whoever owns the partition next.
                state.withLockedValue { $0.stopRequested = true }
            }
        }
        do {
            try client.commitStored()
        } catch {
            logger.warning("final commit failed", metadata: ["error": "\(error)"])
        }
        client.closeConsumer()
        source.finish()
        logger.debug("consumer closed")
    }

    /// Receives the sequence's demand signals.
    public final class BackPressureDelegate: NIOAsyncSequenceProducerDelegate, Sendable {
        private let state: NIOLockedValueBox<State>
        init(state: NIOLockedValueBox<State>) { self.state = state }
        public func produceMore() { state.withLockedValue { $0.backPressured = false } }
        public func didTerminate() { state.withLockedValue { $0.stopRequested = true } }
    }
}

/// A one-shot signal awaited by any number of tasks.
final class Completion: Sendable {
    private let state = NIOLockedValueBox<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func finish() {
        let waiters = state.withLockedValue { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state in
                if state.done { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
