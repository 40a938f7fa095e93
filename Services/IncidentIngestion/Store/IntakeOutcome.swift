import Foundation
import Metrics
import ServiceKit

/// What happened to one submitted incident (the `results` items of `POST /v1/incidents`).
public struct IntakeOutcome: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Encodable {
        /// First revision stored and published.
        case accepted
        /// Same content as the stored revision (or an older `updated_at`): nothing changed, nothing published.
        case unchanged
        /// A new revision stored and published.
        case updated
        /// Invalid: not stored; kept on `incidents.rejected` with the reasons.
        case rejected
    }

    public var externalId: String?
    /// The incident id, lower case (as in events and Kafka keys).
    public var id: String?
    public var revision: Int?
    public var status: Status
    public var errors: [ProblemDetails.FieldError]
    /// Set when `unchanged` because the submission carried an older `updated_at`.
    public var stale: Bool?

    /// Counts a batch's outcomes in `coalition_ingestion_incidents_total{channel,outcome}`: one
    /// increment per outcome and batch, not one per incident.
    static func count(_ outcomes: [IntakeOutcome], rejected: Int, channel: String) {
        var counts: [Status: Int] = [.rejected: rejected]
        for outcome in outcomes { counts[outcome.status, default: 0] += 1 }
        // Rejections are counted even when there are none, as they always were.
        for (status, count) in counts where count > 0 || status == .rejected {
            Counter(label: "coalition_ingestion_incidents_total", dimensions: [("channel", channel), ("outcome", status.rawValue)]).increment(by: count)
        }
    }

    public init(externalId: String?, id: UUID?, revision: Int?, status: Status, errors: [ProblemDetails.FieldError] = [], stale: Bool? = nil) {
        self.externalId = externalId
        self.id = id?.lowercaseText
        self.revision = revision
        self.status = status
        self.errors = errors
        self.stale = stale
    }
}

/// A submission that failed validation, kept with its original bytes.
public struct RejectedSubmission: Sendable {
    public var source: String?
    public var externalId: String?
    public var original: [UInt8]
    public var errors: [ProblemDetails.FieldError]
    /// Where it came from: `http`, `csv`, `kafka`, `open311`.
    public var channel: String
    /// The record's place on `incidents.raw`, for Kafka submissions.
    public var origin: KafkaOrigin?

    static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    public struct KafkaOrigin: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public init(topic: String, partition: Int32, offset: Int64) {
            self.topic = topic
            self.partition = partition
            self.offset = offset
        }
    }

    /// `source`, `externalId` and the reasons are labels for operators, stored as PostgreSQL
    /// text and jsonb, which cannot hold U+0000: a NUL in them becomes U+FFFD. The original
    /// bytes are kept exactly.
    public init(source: String?, externalId: String?, original: [UInt8], errors: [ProblemDetails.FieldError], channel: String, origin: KafkaOrigin? = nil) {
        self.source = source.map(Self.storable)
        self.externalId = externalId.map(Self.storable)
        self.original = original
        self.errors = errors.map { .init(field: Self.storable($0.field), code: $0.code, message: Self.storable($0.message)) }
        self.channel = channel
        self.origin = origin
    }
}
