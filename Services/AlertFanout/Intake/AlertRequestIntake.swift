import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceKit
import ServiceLifecycle

/// Consumes `alerts.requested` (group `alert-fanout-requests`): each request becomes one
/// delivery per recipient channel, through the same state machine, grouping and transports as
/// incident alerts. Delivery ids derive from the request's idempotency key, so a redelivered or
/// repeated request sends nothing twice. A request that cannot be read or names no known
/// recipient goes to `alerts.requested.dlt` with the reason.
public struct AlertRequestIntake: Service {
    public static let consumerGroup = "alert-fanout-requests"

    let consumer: KafkaConsumer
    let postgres: PostgresClient
    let deadLetters: DeadLetterPublisher
    let logger: Logger
    let clock: @Sendable () -> Date

    public init(consumer: KafkaConsumer, postgres: PostgresClient, producer: KafkaProducer, groupID: String, logger: Logger,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.consumer = consumer
        self.postgres = postgres
        self.deadLetters = DeadLetterPublisher(producer: producer, consumerGroup: groupID)
        self.logger = logger
        self.clock = clock
    }

    public static func makeConsumer(_ configuration: CommonConfiguration, logger: Logger) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: configuration.kafka, groupID: configuration.consumerGroup(consumerGroup),
                topics: [configuration.topic(.alertsRequested)], sessionTimeout: configuration.kafkaSessionTimeout),
            logger: logger)
    }

    public func run() async throws {
        for try await batch in consumer.batches.cancelOnGracefulShutdown() {
            for message in batch { try await process(message) }
            try consumer.markProcessed(batch)
        }
    }

    /// Namespace of request delivery ids: UUIDv5 of "request/<idempotency key>/<channel id>".
    static let namespace = UUID(uuidString: "a3f4c1d2-7b8e-4f60-9d1a-2c3b4e5f6a70")!

    public static func deliveryID(key: String, channel: UUID) -> UUID {
        UUID(version5: namespace, name: Array("request/\(key)/\(channel.uuidString.lowercased())".utf8))
    }

    func process(_ message: KafkaMessage) async throws {
        let request: AlertRequest
        do {
            if let event = try CloudEvent(kafkaMessage: message) {
                guard event.type == EventType.alertRequested else { throw Refusal("unexpected event type \(event.type)") }
                request = try event.decodeData(as: AlertRequest.self)
            } else {
                request = try CoalitionJSON.decoder.decode(AlertRequest.self, from: Data(message.value))
            }
        } catch {
            try await deadLetters.send(message, errorCode: "invalid_alert_request", errorMessage: "\(error)")
            return
        }
        do {
            try await retryingWhileDatabaseUnavailable(logger: logger, what: "the request") { try await store(request, message: message) }
        } catch let error as PostgresError {
            try await deadLetters.send(message, errorCode: "store_refused", errorMessage: error.description)
        }
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private func store(_ request: AlertRequest, message: KafkaMessage) async throws {
        if let problem = Self.problem(request) {
            try await deadLetters.send(message, errorCode: "invalid_alert_request", errorMessage: problem)
            return
        }
        let now = clock()
        if let expires = request.expiresAt, expires <= now {
            Counter(label: "coalition_fanout_requests_expired_total").increment()
            return
        }
        let key = request.idempotencyKey ?? request.requestId.uuidString.lowercased()
        let stored = try await postgres.withTransaction { connection -> Int in
            var channels: [(id: UUID, type: String, stakeholder: UUID, role: String)] = []
            for row in try await connection.query("""
                SELECT c.id, c.type, s.id, s.role FROM stakeholder_channels c JOIN stakeholders s ON s.id = c.stakeholder_id
                WHERE s.id = ANY(\(request.recipients.map(\.stakeholderId))) AND c.disabled_at IS NULL
                ORDER BY c.created_at, c.id
                """) {
                let (id, type, stakeholder, role) = try row.decode((UUID, String, UUID, String).self)
                let wanted = request.recipients.first { $0.stakeholderId == stakeholder }?.channelIds
                if let wanted, !wanted.contains(where: { UUID(uuidString: $0) == id }) { continue }
                channels.append((id, type, stakeholder, role))
            }
            guard !channels.isEmpty else { return 0 }
            let ids = channels.map { Self.deliveryID(key: key, channel: $0.id) }
            let payload = String(decoding: try CoalitionJSON.encoder.encode(RequestedAlertPayload(request)), as: UTF8.self)
            let inserted = try await connection.execute("""
                INSERT INTO deliveries (id, incident_id, reason, stakeholder_id, role, channel_id, channel_type, severity, payload, ingested_at)
                SELECT u.id, \(request.incidentId.flatMap(UUID.init(uuidString:))), \(request.kind), u.stakeholder, u.role, u.channel, u.type,
                       \(request.severity ?? 3), \(payload), \(request.requestedAt)
                FROM unnest(\(ids)::uuid[], \(channels.map(\.stakeholder))::uuid[], \(channels.map(\.role))::text[],
                            \(channels.map(\.id))::uuid[], \(channels.map(\.type))::text[]) AS u(id, stakeholder, role, channel, type)
                ON CONFLICT (id) DO NOTHING
                """)
            if inserted > 0 { try await connection.execute("SELECT pg_notify('coalition_deliveries', '')") }
            return channels.count
        }
        if stored == 0 {
            try await deadLetters.send(message, errorCode: "no_recipient", errorMessage: "none of the recipients is a stakeholder with an enabled channel")
        }
    }

    static func problem(_ request: AlertRequest) -> String? {
        if request.recipients.isEmpty { return "recipients must not be empty" }
        if request.subject.trimmingCharacters(in: .whitespaces).isEmpty { return "subject must not be empty" }
        if request.body.isEmpty { return "body must not be empty" }
        if let severity = request.severity, !(1...5).contains(severity) { return "severity must be 1 to 5" }
        for attachment in request.attachments ?? [] where Data(base64Encoded: attachment.contentBase64) == nil {
            return "attachment \(attachment.filename) is not valid base64"
        }
        return nil
    }
}

/// What a requested alert looks like inside a notification (`alerts[]` of the webhook body).
public struct RequestedAlertPayload: Codable, Sendable, Equatable {
    public var type = "coalition.alert.requested.v1"
    @LowercaseUUID public var requestId: UUID
    public var kind: String
    public var subject: String
    public var body: String
    public var area: String?
    public var incidentId: String?
    public var meetingId: String?
    public var attachments: [AlertRequest.Attachment]?

    init(_ request: AlertRequest) {
        requestId = request.requestId
        kind = request.kind
        subject = request.subject
        body = request.body
        area = request.area
        incidentId = request.incidentId
        meetingId = request.meetingId
        attachments = request.attachments
    }
}
