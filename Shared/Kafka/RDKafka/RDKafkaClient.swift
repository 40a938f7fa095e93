import CRdKafka
import Dispatch
import Foundation
import Logging

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
        rd_kafka_destroy(rk)
        contextRetain.release()
    }

    // MARK: Producing

    enum ProduceOutcome { case enqueued, queueFull }

    /// Enqueues a record; delivery is reported to `promise` from the poll thread.
    func produce(_ record: KafkaRecord, promise: DeliveryPromise) throws(KafkaError) -> ProduceOutcome {
        let opaque = Unmanaged.passRetained(promise).toOpaque()
        guard let headers = rd_kafka_headers_new(record.headers.count) else {
            Unmanaged<DeliveryPromise>.fromOpaque(opaque).release()
            throw KafkaError(.produceFailed, "could not allocate headers")
        }
        for header in record.headers {
            if let value = header.value {
                value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
            }
        }
        let error: OpaquePointer? = record.topic.withCString { topic in
            record.value.withUnsafeBytes { value in
                withOptionalBytes(record.key) { key in
                    var values = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    values[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    values[0].u.cstr = topic
                    values[1].vtype = RD_KAFKA_VTYPE_VALUE
                    values[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    values[1].u.mem.size = value.count
                    values[2].vtype = RD_KAFKA_VTYPE_KEY
                    values[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: key?.baseAddress)
                    values[2].u.mem.size = key?.count ?? 0
                    values[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    values[3].u.i = RD_KAFKA_MSG_F_COPY
                    values[4].vtype = RD_KAFKA_VTYPE_OPAQUE
                    values[4].u.ptr = opaque
                    values[5].vtype = RD_KAFKA_VTYPE_HEADERS
                    values[5].u.headers = headers
                    var count = 6
                    if let partition = record.partition {
                        values.append(rd_kafka_vu_t())
                        values[6].vtype = RD_KAFKA_VTYPE_PARTITION
                        values[6].u.i32 = partition
                        count = 7
                    }
                    return rd_kafka_produceva(rk, values, count)
                }
            }
        }
        guard let error else { return .enqueued }
        // On failure librdkafka owns neither the headers nor the opaque.
        rd_kafka_headers_destroy(headers)
        Unmanaged<DeliveryPromise>.fromOpaque(opaque).release()
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
