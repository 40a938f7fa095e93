import CRdKafka
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers

/// `rd_kafka_t*` is thread-safe per librdkafka's documentation; the wrapper only hands it
/// to librdkafka calls and never dereferences it.
struct RDKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Owns one librdkafka client instance. Every librdkafka call of the Kafka layer is a method
/// here or in a sibling file of this folder.
final class RDKafkaClient: Sendable {
    enum Kind: Sendable { case producer, consumer }

    let handle: RDKafkaHandle
    let kind: Kind
    let context: RDKafkaCallbackContext
    private let contextRetain: Unmanaged<RDKafkaCallbackContext>
    /// Topic handles by name. Producing by name makes librdkafka look the topic up under its
    /// client-wide lock for every record; a cached handle skips that.
    private let topicHandles = NIOLockedValueBox<[String: RDKafkaHandle]>([:])

    var rk: OpaquePointer { handle.pointer }

    init(kind: Kind, properties: [String: String], logger: Logger, statistics: KafkaStatistics) throws(KafkaError) {
        let conf = try RDKafkaConfig.make(properties)
        let context = RDKafkaCallbackContext(logger: logger, statistics: statistics)
        RDKafkaCallbacks.install(on: conf, context: context, producer: kind == .producer)
        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(.clientCreation, RDKafkaError.message(in: errorBuffer))
        }
        self.handle = RDKafkaHandle(pointer: rk)
        self.kind = kind
        self.context = context
        // librdkafka holds a raw pointer to the context until rd_kafka_destroy.
        self.contextRetain = Unmanaged.passRetained(context)
    }

    deinit {
        for topic in topicHandles.withLockedValue({ $0.values }) { rd_kafka_topic_destroy(topic.pointer) }
        rd_kafka_destroy(rk)
        contextRetain.release()
    }

    /// The handle of `topic`, created on first use and kept for the client's lifetime.
    func topicHandle(_ topic: String) -> OpaquePointer? {
        topicHandles.withLockedValue { handles in
            if let handle = handles[topic] { return handle.pointer }
            guard let created = rd_kafka_topic_new(rk, topic, nil) else { return nil }
            handles[topic] = RDKafkaHandle(pointer: created)
            return created
        }
    }

    // MARK: Producing

    enum ProduceOutcome { case enqueued, queueFull }

    /// Enqueues a record; its delivery report goes to the batch slot `opaque` points at.
    /// Nothing here allocates on the Swift side except the headers librdkafka takes over.
    func produce(_ record: KafkaRecord, opaque: UnsafeMutableRawPointer) throws(KafkaError) -> ProduceOutcome {
        var headers: OpaquePointer?
        if !record.headers.isEmpty {
            headers = rd_kafka_headers_new(record.headers.count)
            for header in record.headers {
                if let value = header.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        guard let topicHandle = topicHandle(record.topic) else {
            if let headers { rd_kafka_headers_destroy(headers) }
            throw KafkaError(.produceFailed, "invalid topic name \(record.topic)", persistence: .notPersisted)
        }
        let error: OpaquePointer? = record.value.withUnsafeBytes { value in
            withOptionalBytes(record.key) { key in
                withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { values in
                    var count = 0
                    func append(_ configure: (inout rd_kafka_vu_t) -> Void) {
                        var element = rd_kafka_vu_t()
                        configure(&element)
                        values.initializeElement(at: count, to: element)
                        count += 1
                    }
                    append { $0.vtype = RD_KAFKA_VTYPE_RKT; $0.u.rkt = topicHandle }
                    append {
                        $0.vtype = RD_KAFKA_VTYPE_VALUE
                        $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                        $0.u.mem.size = value.count
                    }
                    if let key {
                        append {
                            $0.vtype = RD_KAFKA_VTYPE_KEY
                            $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                            $0.u.mem.size = key.count
                        }
                    }
                    append { $0.vtype = RD_KAFKA_VTYPE_MSGFLAGS; $0.u.i = RD_KAFKA_MSG_F_COPY }
                    append { $0.vtype = RD_KAFKA_VTYPE_OPAQUE; $0.u.ptr = opaque }
                    if let headers { append { $0.vtype = RD_KAFKA_VTYPE_HEADERS; $0.u.headers = headers } }
                    if let partition = record.partition {
                        append { $0.vtype = RD_KAFKA_VTYPE_PARTITION; $0.u.i32 = partition }
                    }
                    defer { values.baseAddress!.deinitialize(count: count) }
                    return rd_kafka_produceva(rk, values.baseAddress, count)
                }
            }
        }
        guard let error else { return .enqueued }
        // On failure librdkafka has not taken the headers.
        if let headers { rd_kafka_headers_destroy(headers) }
        let code = rd_kafka_error_code(error)
        if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
            rd_kafka_error_destroy(error)
            return .queueFull
        }
        var kafkaError = RDKafkaError.consume(error, code: .produceFailed)
        kafkaError.persistence = .notPersisted
        throw kafkaError
    }

    /// Serves delivery reports, logs and statistics. Blocks up to `timeoutMs`.
    func poll(timeoutMs: Int32) {
        rd_kafka_poll(rk, timeoutMs)
    }

    func outQueueLength() -> Int32 { rd_kafka_outq_len(rk) }

    /// Blocks until every enqueued record is delivered or the timeout passes.
    func flush(timeoutMs: Int32) throws(KafkaError) {
        let result = rd_kafka_flush(rk, timeoutMs)
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.timeout, "flush: \(rd_kafka_outq_len(rk)) records still undelivered", brokerCode: RDKafkaError.name(result))
        }
    }

    /// Fetches cluster metadata (blocking): the cheapest proof that a broker answers.
    func brokerNames(timeoutMs: Int32) throws(KafkaError) -> [String] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(rk, 0, nil, &metadata, timeoutMs)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(.brokerUnreachable, RDKafkaError.describe(result), brokerCode: RDKafkaError.name(result))
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let brokers = metadata.pointee.brokers
        return (0..<Int(metadata.pointee.broker_cnt)).map { index in
            let broker = brokers![index]
            return "\(String(cString: broker.host)):\(broker.port)"
        }
    }

    /// Topic names and partition counts (blocking).
    func topics(timeoutMs: Int32) throws(KafkaError) -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let result = rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMs)
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(.brokerUnreachable, RDKafkaError.describe(result), brokerCode: RDKafkaError.name(result))
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var topics: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
            }
        }
        return topics
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// Runs blocking librdkafka calls off the cooperative pool, on Dispatch's own threads.
enum RDKafkaBlocking {
    private static let queue = DispatchQueue(label: "coalition.kafka.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(KafkaError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
