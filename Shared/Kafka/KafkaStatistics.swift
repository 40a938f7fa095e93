import Foundation
import Metrics

/// Turns librdkafka's periodic statistics JSON into swift-metrics gauges.
final class KafkaStatistics: Sendable {
    private let queuedMessages: Gauge
    private let queuedBytes: Gauge
    private let replyQueue: Gauge
    private let transmittedMessages: Gauge
    private let receivedMessages: Gauge

    init(clientID: String, role: String) {
        let dimensions = [("client_id", clientID), ("role", role)]
        queuedMessages = Gauge(label: "kafka_client_queued_messages", dimensions: dimensions)
        queuedBytes = Gauge(label: "kafka_client_queued_bytes", dimensions: dimensions)
        replyQueue = Gauge(label: "kafka_client_reply_queue_ops", dimensions: dimensions)
        transmittedMessages = Gauge(label: "kafka_client_transmitted_messages", dimensions: dimensions)
        receivedMessages = Gauge(label: "kafka_client_received_messages", dimensions: dimensions)
    }

    func record(json: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return }
        func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        number("msg_cnt").map(queuedMessages.record)
        number("msg_size").map(queuedBytes.record)
        number("replyq").map(replyQueue.record)
        number("txmsgs").map(transmittedMessages.record)
        number("rxmsgs").map(receivedMessages.record)
    }
}
