import Foundation

/// A CloudEvents 1.0 event as the services exchange it. `data` is always JSON bytes
/// (`datacontenttype` = `application/json`); transport bindings live with each transport
/// (see `CloudEvent+Kafka.swift` in the Kafka library).
public struct CloudEvent: Sendable, Equatable {
    public static let specVersion = "1.0"

    public var id: String
    public var source: String
    public var type: String
    public var time: Date?
    public var subject: String?
    public var dataContentType: String
    public var data: [UInt8]
    /// Extension attributes (lower-case alphanumeric names per the spec).
    public var extensions: [String: String]

    public init(
        id: String,
        source: String,
        type: String,
        time: Date? = Date(),
        subject: String? = nil,
        dataContentType: String = "application/json",
        data: [UInt8],
        extensions: [String: String] = [:]
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.dataContentType = dataContentType
        self.data = data
        self.extensions = extensions
    }

    /// Builds an event whose data is `payload` encoded as snake_case JSON.
    public init<Payload: Encodable>(
        id: String, source: String, type: String, time: Date? = Date(), subject: String? = nil,
        payload: Payload
    ) throws {
        let data = try CoalitionJSON.encoder.encode(payload)
        self.init(id: id, source: source, type: type, time: time, subject: subject, data: Array(data))
    }

    /// Decodes the JSON data as `Payload` (snake_case keys, RFC 3339 times).
    public func decodeData<Payload: Decodable>(as: Payload.Type = Payload.self) throws -> Payload {
        try CoalitionJSON.decoder.decode(Payload.self, from: Data(data))
    }
}
