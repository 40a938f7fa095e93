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

    /// The Kafka headers as the JSON object stored in `outbox.headers`. Written by hand: it
    /// runs once per event on the hot path, and the values are plain strings.
    var headersJSON: String {
        var json = "{"
        for (index, header) in event.kafkaHeaders.enumerated() {
            if index > 0 { json += "," }
            Self.appendJSONString(header.key, to: &json)
            json += ":"
            Self.appendJSONString(header.stringValue ?? "", to: &json)
        }
        return json + "}"
    }

    static func appendJSONString(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20:
                json += "\\u00" + String(scalar.value, radix: 16).leftPadded(to: 2)
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
