import Contracts
import Foundation
import Kafka

/// An event to publish once the surrounding transaction commits.
public struct OutboxEvent: Sendable, Equatable {
    /// The unprefixed topic name (`incidents.normalized`); the relay adds the deployment prefix.
    public var topic: String
    public var key: String?
    public var event: CloudEvent

    public init(topic: Topic, key: String?, event: CloudEvent) {
        self.init(topic: topic.rawValue, key: key, event: event)
    }

    public init(topic: String, key: String?, event: CloudEvent) {
        self.topic = topic
        self.key = key
        self.event = event
    }

    /// The Kafka headers as the JSON object stored in `outbox.headers`.
    var headersJSON: String {
        var object: [String: String] = [:]
        for header in event.kafkaHeaders { object[header.key] = header.stringValue ?? "" }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
