import Contracts
import Foundation
import Kafka

/// One input record as the aggregator reads it, by topic.
enum MetricInput: Sendable {
    /// A revision of a canonical incident (`incidents.normalized`).
    case incident(CountedIncident)
    /// The final state of one alert delivery (`alerts.delivered`).
    case delivery(DeliveryOutcomeInput)
    /// A meeting event (`meetings.events`); `eventID` deduplicates redeliveries.
    case meeting(MeetingChange, eventID: String)
    /// A perceived-safety answer (`feedback.responses`).
    case feedback(FeedbackResponse, responseID: String)
    /// A well-formed event that no metric counts (e.g. an endpoint-disabled notice).
    case ignored
    /// Unreadable: parked on the topic's dead-letter topic with this code and reason.
    case invalid(code: String, reason: String)
}

/// What a `meetings.events` record changes.
enum MeetingChange: Sendable {
    case scheduled(MeetingEvent.Scheduled)
    case rescheduled(MeetingEvent.Rescheduled)
    case cancelled(MeetingEvent.Cancelled)
    case rsvp(MeetingEvent.Rsvp)
    case attendance(MeetingEvent.Attendance)

    var meetingID: UUID {
        switch self {
        case .scheduled(let event): event.meetingId
        case .rescheduled(let event): event.meetingId
        case .cancelled(let event): event.meetingId
        case .rsvp(let event): event.meetingId
        case .attendance(let event): event.meetingId
        }
    }
}

/// The part of `coalition.alert.delivery.v1` (alert-fanout's `DeliveryOutcome`,
/// docs/asyncapi.yaml `AlertDelivery`) the alert metrics read.
struct DeliveryOutcomeInput: Decodable, Sendable, Equatable {
    enum Outcome: String, Decodable, Sendable {
        case delivered, failed, cancelled, suppressed
    }

    @LowercaseUUID var deliveryId: UUID
    var channel: String
    var role: String
    var outcome: Outcome
    var finishedAt: Date
    /// From the incident's `ingested_at` (or the request's time) to the final state.
    var latencyMs: Int?

    static let channels: Set<String> = ["webhook", "email", "sms"]
}

/// A record with what it decoded to. Only an unreadable record keeps its bytes (for the
/// dead-letter topic); of the others just the position stays, so records waiting for their
/// flush cost little memory.
struct DecodedRecord: Sendable {
    var message: KafkaMessage
    var input: MetricInput

    init(message: KafkaMessage, input: MetricInput) {
        self.message = message
        self.input = input
    }

    init(decoding message: KafkaMessage, with decoder: MetricInputDecoder) {
        let input = decoder.decode(message)
        var kept = message
        if case .invalid = input {} else {
            kept.value = []
            kept.headers = []
            kept.key = nil
        }
        self.init(message: kept, input: input)
    }
}
