import Contracts
import Foundation

/// CloudEvents Kafka protocol binding (binary mode out; binary and structured mode in).
extension CloudEvent {
    public static let structuredContentType = "application/cloudevents+json"

    /// The record for this event in binary mode: data as the value, attributes as `ce_*` headers.
    public func kafkaRecord(topic: String, key: String?) -> KafkaRecord {
        KafkaRecord(topic: topic, key: key.map { Array($0.utf8) }, value: data, headers: kafkaHeaders)
    }

    public var kafkaHeaders: [KafkaHeader] {
        var headers = [
            KafkaHeader(key: "ce_specversion", string: CloudEvent.specVersion),
            KafkaHeader(key: "ce_id", string: id),
            KafkaHeader(key: "ce_source", string: source),
            KafkaHeader(key: "ce_type", string: type),
            KafkaHeader(key: "content-type", string: dataContentType),
        ]
        if let time { headers.append(KafkaHeader(key: "ce_time", string: RFC3339.string(from: time))) }
        if let subject { headers.append(KafkaHeader(key: "ce_subject", string: subject)) }
        for (name, value) in extensions.sorted(by: { $0.key < $1.key }) {
            headers.append(KafkaHeader(key: "ce_\(name)", string: value))
        }
        return headers
    }

    /// Reads an event from a record in either mode. Returns `nil` for a record that is not a
    /// CloudEvent at all (plain JSON from an upstream); throws for a malformed CloudEvent.
    public init?(kafkaMessage message: KafkaMessage) throws(KafkaError) {
        let contentType = message.header("content-type")?.stringValue
        if let contentType, contentType.lowercased().hasPrefix(CloudEvent.structuredContentType) {
            self = try CloudEvent.decodeStructured(message.value)
            return
        }
        guard let specVersion = message.header("ce_specversion")?.stringValue else { return nil }
        guard specVersion == CloudEvent.specVersion else {
            throw KafkaError(.invalidCloudEvent, "unsupported ce_specversion \(specVersion)")
        }
        func required(_ name: String) throws(KafkaError) -> String {
            guard let value = message.header(name)?.stringValue, !value.isEmpty else {
                throw KafkaError(.invalidCloudEvent, "missing header \(name)")
            }
            return value
        }
        var time: Date?
        if let text = message.header("ce_time")?.stringValue {
            guard let parsed = RFC3339.date(from: text) else { throw KafkaError(.invalidCloudEvent, "ce_time is not RFC 3339: \(text)") }
            time = parsed
        }
        var extensions: [String: String] = [:]
        let known: Set = ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"]
        for header in message.headers where header.key.hasPrefix("ce_") && !known.contains(header.key) {
            extensions[String(header.key.dropFirst(3))] = header.stringValue ?? ""
        }
        self.init(
            id: try required("ce_id"), source: try required("ce_source"), type: try required("ce_type"),
            time: time, subject: message.header("ce_subject")?.stringValue,
            dataContentType: contentType ?? "application/json", data: message.value, extensions: extensions)
    }

    private static func decodeStructured(_ bytes: [UInt8]) throws(KafkaError) -> CloudEvent {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw KafkaError(.invalidCloudEvent, "structured event is not a JSON object")
        }
        func string(_ key: String) -> String? { object[key] as? String }
        guard string("specversion") == CloudEvent.specVersion else {
            throw KafkaError(.invalidCloudEvent, "unsupported or missing specversion")
        }
        guard let id = string("id"), let source = string("source"), let type = string("type") else {
            throw KafkaError(.invalidCloudEvent, "structured event lacks id, source or type")
        }
        var time: Date?
        if let text = string("time") {
            guard let parsed = RFC3339.date(from: text) else { throw KafkaError(.invalidCloudEvent, "time is not RFC 3339: \(text)") }
            time = parsed
        }
        var data: [UInt8] = []
        if let base64 = string("data_base64") {
            guard let decoded = Data(base64Encoded: base64) else { throw KafkaError(.invalidCloudEvent, "data_base64 is not base64") }
            data = Array(decoded)
        } else if let value = object["data"], !(value is NSNull) {
            guard let encoded = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]) else {
                throw KafkaError(.invalidCloudEvent, "data is not JSON")
            }
            data = Array(encoded)
        }
        let reserved: Set = ["specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data", "data_base64", "dataschema"]
        var extensions: [String: String] = [:]
        for (key, value) in object where !reserved.contains(key) {
            extensions[key] = (value as? String) ?? "\(value)"
        }
        return CloudEvent(
            id: id, source: source, type: type, time: time, subject: string("subject"),
            dataContentType: string("datacontenttype") ?? "application/json", data: data, extensions: extensions)
    }
}
