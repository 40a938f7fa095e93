import CRdKafka
import Foundation
import Logging
import NIOConcurrencyHelpers

/// What the C callbacks need, reached through `rd_kafka_opaque`. librdkafka calls these
/// from its own threads or from our poll thread, never from the cooperative pool.
final class RDKafkaCallbackContext: Sendable {
    let logger: Logger
    let statistics: KafkaStatistics
    /// Set by consumers: called on rebalance with the partitions (already applied to librdkafka).
    let rebalanceObserver = NIOLockedValueBox<(@Sendable (KafkaRebalanceEvent) -> Void)?>(nil)
    /// Set by consumers that keep their own offsets: asked, on assignment, where each newly
    /// assigned partition starts (see `KafkaConsumerConfiguration.startOffsets`).
    let startOffsets = NIOLockedValueBox<(@Sendable ([KafkaTopicPartition]) -> [KafkaTopicPartition: Int64])?>(nil)

    init(logger: Logger, statistics: KafkaStatistics) {
        self.logger = logger
        self.statistics = statistics
    }

    static func from(_ rk: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

public enum KafkaRebalanceEvent: Sendable {
    case assigned([KafkaTopicPartition])
    case revoked([KafkaTopicPartition])
}

public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

enum RDKafkaCallbacks {
    /// Installs log, error, statistics and delivery callbacks on `conf`.
    static func install(on conf: OpaquePointer, context: RDKafkaCallbackContext, producer: Bool) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        rd_kafka_conf_set_stats_cb(conf, statsCallback)
        if producer {
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        } else {
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
    }

    private static let logCallback:
        @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
            rk, level, facility, message in
            guard let context = RDKafkaCallbackContext.from(rk) else { return }
            let text = message.map { String(cString: $0) } ?? ""
            let fac = facility.map { String(cString: $0) } ?? ""
            // syslog levels: 0 emerg … 3 err, 4 warning, 5 notice, 6 info, 7 debug
            let swiftLevel: Logger.Level =
                switch level {
                case ...3: .error
                case 4: .warning
                case 5: .notice
                case 6: .info
                default: .debug
                }
            context.logger.log(level: swiftLevel, "\(text)", metadata: ["kafka.facility": "\(fac)"])
        }

    private static let errorCallback:
        @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
            rk, code, reason, _ in
            guard let context = RDKafkaCallbackContext.from(rk) else { return }
            let error = rd_kafka_resp_err_t(code)
            let text = reason.map { String(cString: $0) } ?? ""
            // Fatal errors (e.g. idempotence violations) need attention; transient ones
            // (broker down) are retried by librdkafka itself.
            let fatal = error == RD_KAFKA_RESP_ERR__FATAL
            context.logger.log(
                level: fatal ? .critical : .warning, "librdkafka error: \(text)",
                metadata: ["kafka.error": "\(String(cString: rd_kafka_err2name(error)))"])
        }

    private static let statsCallback:
        @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
            rk, json, length, _ in
            guard let context = RDKafkaCallbackContext.from(rk), let json else { return 0 }
            let bytes = UnsafeRawBufferPointer(start: json, count: length)
            context.statistics.record(json: Data(bytes))
            return 0  // 0: librdkafka frees the JSON buffer
        }

    private static let deliveryCallback:
        @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
            _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let msg = message.pointee
            var error: KafkaError?
            if msg.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let status = rd_kafka_message_status(message)
                let persistence: KafkaError.Persistence =
                    status == RD_KAFKA_MSG_STATUS_NOT_PERSISTED ? .notPersisted : .possiblyPersisted
                error = KafkaError(.deliveryFailed, RDKafkaError.describe(msg.err), persistence: persistence, brokerCode: RDKafkaError.name(msg.err))
            }
            DeliveryBatch.complete(opaque: opaque, partition: msg.partition, offset: msg.offset, error: error)
        }

    private static let rebalanceCallback:
        @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = {
            rk, error, partitions, _ in
            guard let rk else { return }
            let context = RDKafkaCallbackContext.from(rk)
            let list = RDKafkaTopicPartitionList.read(partitions)
            let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
            switch error {
            case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
                // Offsets kept outside Kafka (e.g. in the application's database) win over the
                // group's committed ones: written into the list, they are where fetching starts.
                if let partitions, let provider = context?.startOffsets.withLockedValue({ $0 }) {
                    let offsets = provider(list)
                    if let elements = partitions.pointee.elems {
                        for index in 0..<Int(partitions.pointee.cnt) {
                            let key = KafkaTopicPartition(topic: String(cString: elements[index].topic), partition: elements[index].partition)
                            if let offset = offsets[key] { elements[index].offset = offset }
                        }
                    }
                }
                if cooperative {
                    if let e = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(e) }
                } else {
                    rd_kafka_assign(rk, partitions)
                }
                context?.logger.info("partitions assigned", metadata: ["kafka.partitions": "\(list)"])
                context?.rebalanceObserver.withLockedValue { $0 }?(.assigned(list))
            default:
                // Commit what the application has marked processed before the partitions go
                // to another member, so the new owner resumes exactly there.
                let commitResult = rd_kafka_commit(rk, nil, 0)
                if commitResult != RD_KAFKA_RESP_ERR_NO_ERROR && commitResult != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    context?.logger.warning(
                        "commit on revoke failed", metadata: ["kafka.error": "\(RDKafkaError.name(commitResult))"])
                }
                if cooperative {
                    if let e = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(e) }
                } else {
                    rd_kafka_assign(rk, nil)
                }
                context?.logger.info("partitions revoked", metadata: ["kafka.partitions": "\(list)"])
                context?.rebalanceObserver.withLockedValue { $0 }?(.revoked(list))
            }
        }
}
