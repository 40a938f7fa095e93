import Logging
import ServiceLifecycle

/// An idempotent Kafka producer. `send` returns once the broker has acknowledged the record
/// (the delivery report), so a caller that marks work done after `send` never loses it.
///
/// Run it as a `Service`: on graceful shutdown it flushes everything still queued.
public final class KafkaProducer: Service, Sendable {
    private let client: RDKafkaClient
    private let poller: RDKafkaPollThread
    private let logger: Logger
    private let flushTimeout: Duration

    public init(configuration: KafkaProducerConfiguration, logger: Logger, flushTimeout: Duration = .seconds(30)) throws(KafkaError) {
        let statistics = KafkaStatistics(clientID: configuration.kafka.clientID, role: "producer")
        self.client = try RDKafkaClient(kind: .producer, properties: configuration.librdkafkaProperties, logger: logger, statistics: statistics)
        // Delivery reports only arrive while someone polls; they must flow even before run().
        self.poller = RDKafkaPollThread(client: client, name: "kafka-producer-poll")
        self.logger = logger
        self.flushTimeout = flushTimeout
    }

    deinit { poller.stop() }

    /// Sends one record and waits for its delivery report.
    @discardableResult
    public func send(_ record: KafkaRecord) async throws(KafkaError) -> KafkaDeliveryReport {
        try await send([record])[0].get()
    }

    /// Sends records (pipelined: all are enqueued before waiting) and returns one result per
    /// record, in order. Records with the same key keep their order.
    public func send(_ records: [KafkaRecord]) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        guard !records.isEmpty else { return [] }
        let batch = DeliveryBatch(topics: records.map(\.topic))
        for (index, record) in records.enumerated() {
            while true {
                do {
                    if try client.produce(record, opaque: batch.opaque(for: index)) == .enqueued { break }
                    // Local queue full: let the poll thread drain delivery reports, then retry.
                    try? await Task.sleep(for: .milliseconds(1))
                } catch {
                    batch.complete(index: index, partition: -1, offset: -1, error: error)
                    break
                }
            }
        }
        return await batch.wait()
    }

    /// Sends records and throws the first failure, if any.
    @discardableResult
    public func sendAll(_ records: [KafkaRecord]) async throws(KafkaError) -> [KafkaDeliveryReport] {
        var reports: [KafkaDeliveryReport] = []
        reports.reserveCapacity(records.count)
        for result in await send(records) { reports.append(try result.get()) }
        return reports
    }

    /// Waits until every queued record is delivered or `timeout` passes.
    public func flush(timeout: Duration? = nil) async throws(KafkaError) {
        let milliseconds = Int32(clamping: (timeout ?? flushTimeout).milliseconds)
        try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.flush(timeoutMs: milliseconds) }
    }

    /// Brokers that answered a metadata request within `timeout` (readiness probes).
    public func brokers(timeout: Duration = .seconds(5)) async throws(KafkaError) -> [String] {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.brokerNames(timeoutMs: milliseconds) }
    }

    /// Topic names with their partition counts.
    public func topics(timeout: Duration = .seconds(5)) async throws(KafkaError) -> [String: Int] {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await RDKafkaBlocking.run { [client] () throws(KafkaError) in try client.topics(timeoutMs: milliseconds) }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Flushes queued records and stops the poll thread. Safe to call more than once.
    public func shutdown() async {
        do {
            try await flush()
        } catch {
            logger.error("producer shut down with undelivered records", metadata: ["error": "\(error)"])
        }
        poller.stop()
        await poller.waitUntilFinished()
    }
}
