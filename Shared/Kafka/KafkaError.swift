/// Errors of the Kafka layer. `description` carries no record contents.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public static let configuration = Code(raw: "configuration")
        public static let clientCreation = Code(raw: "client_creation")
        public static let produceFailed = Code(raw: "produce_failed")
        public static let deliveryFailed = Code(raw: "delivery_failed")
        public static let consumeFailed = Code(raw: "consume_failed")
        public static let offsetStoreFailed = Code(raw: "offset_store_failed")
        public static let commitFailed = Code(raw: "commit_failed")
        public static let subscribeFailed = Code(raw: "subscribe_failed")
        public static let admin = Code(raw: "admin")
        public static let brokerUnreachable = Code(raw: "broker_unreachable")
        public static let timeout = Code(raw: "timeout")
        public static let closed = Code(raw: "closed")
        public static let invalidCloudEvent = Code(raw: "invalid_cloud_event")
        public var description: String { raw }
    }

    /// Whether a failed record may nonetheless be on the topic (`rd_kafka_message_status`).
    /// `notPersisted` is safe to retry blindly; `possiblyPersisted` needs an idempotent consumer.
    public enum Persistence: Sendable {
        case notPersisted, possiblyPersisted
    }

    public var code: Code
    public var message: String
    public var persistence: Persistence?
    /// librdkafka's error name (e.g. `_MSG_TIMED_OUT`), when there is one.
    public var brokerCode: String?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, persistence: Persistence? = nil, brokerCode: String? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.persistence = persistence
        self.brokerCode = brokerCode
        self.file = file
        self.line = line
    }

    /// Errors a caller may retry: nothing was persisted, or the broker was unreachable.
    public var isRetriable: Bool {
        persistence == .notPersisted || code == .brokerUnreachable || code == .timeout
    }

    public var description: String {
        var text = "KafkaError.\(code): \(message)"
        if let brokerCode { text += " [\(brokerCode)]" }
        if let persistence { text += " (\(persistence == .notPersisted ? "not persisted" : "possibly persisted"))" }
        return text
    }
}
