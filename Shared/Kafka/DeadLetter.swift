import Contracts
import Logging

/// Parks records a consumer cannot process on `<topic>.dlt`: the original key, value and
/// headers, plus headers saying where the record came from and why it was refused.
public struct DeadLetterPublisher: Sendable {
    public enum Header {
        public static let originalTopic = "coalition_dlt_original_topic"
        public static let originalPartition = "coalition_dlt_original_partition"
        public static let originalOffset = "coalition_dlt_original_offset"
        public static let consumerGroup = "coalition_dlt_consumer_group"
        public static let errorCode = "coalition_dlt_error_code"
        public static let errorMessage = "coalition_dlt_error_message"
    }

    private let producer: KafkaProducer
    private let consumerGroup: String

    public init(producer: KafkaProducer, consumerGroup: String) {
        self.producer = producer
        self.consumerGroup = consumerGroup
    }

    public static func record(for message: KafkaMessage, consumerGroup: String, errorCode: String, errorMessage: String) -> KafkaRecord {
        let reserved: Set = [
            Header.originalTopic, Header.originalPartition, Header.originalOffset,
            Header.consumerGroup, Header.errorCode, Header.errorMessage,
        ]
        var headers = message.headers.filter { !reserved.contains($0.key) }
        headers += [
            KafkaHeader(key: Header.originalTopic, string: message.topic),
            KafkaHeader(key: Header.originalPartition, string: String(message.partition)),
            KafkaHeader(key: Header.originalOffset, string: String(message.offset)),
            KafkaHeader(key: Header.consumerGroup, string: consumerGroup),
            KafkaHeader(key: Header.errorCode, string: errorCode),
            KafkaHeader(key: Header.errorMessage, string: errorMessage),
        ]
        return KafkaRecord(topic: DeadLetterTopic.name(for: message.topic), key: message.key, value: message.value, headers: headers)
    }

    /// Sends the record to its dead-letter topic and waits for the broker's acknowledgement,
    /// so the caller may then mark the original processed.
    public func send(_ message: KafkaMessage, errorCode: String, errorMessage: String) async throws(KafkaError) {
        try await producer.send(Self.record(for: message, consumerGroup: consumerGroup, errorCode: errorCode, errorMessage: errorMessage))
    }
}
