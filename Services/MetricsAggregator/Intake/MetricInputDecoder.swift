import Contracts
import Foundation
import Kafka

/// Turns records of the aggregator's input topics into `MetricInput`s. Every topic takes
/// CloudEvents in binary or structured mode, or the bare JSON data. Incident revisions take
/// a fast path (`IncidentEventReader`, the CloudEvent attributes read from the headers
/// without parsing `ce_time`): they are nearly all of the volume.
struct MetricInputDecoder: Sendable {
    /// Topic names as consumed (prefixed) → which input they are.
    let topics: [String: Topic]

    init(prefix: String) {
        var topics: [String: Topic] = [:]
        for topic in MetricInputDecoder.inputs { topics[topic.name(prefix: prefix)] = topic }
        self.topics = topics
    }

    static let inputs: [Topic] = [.incidentsNormalized, .alertsDelivered, .meetingsEvents, .feedbackResponses]

    func decode(_ message: KafkaMessage) -> MetricInput {
        guard let topic = topics[message.topic] else {
            return .invalid(code: "unexpected_topic", reason: "the aggregator does not read \(message.topic)")
        }
        switch topic {
        case .incidentsNormalized: return decodeIncident(message)
        case .alertsDelivered: return decodeDelivery(message)
        case .meetingsEvents: return decodeMeeting(message)
        default: return decodeFeedback(message)
        }
    }

    /// The JSON data and the CloudEvent type and id (nil for plain JSON).
    private func envelope(_ message: KafkaMessage) throws -> (data: [UInt8], type: String?, id: String?) {
        if let contentType = message.header("content-type")?.stringValue, contentType.lowercased().hasPrefix(CloudEvent.structuredContentType) {
            guard let event = try CloudEvent(kafkaMessage: message) else { throw KafkaError(.invalidCloudEvent, "not a CloudEvent") }
            return (event.data, event.type, event.id)
        }
        guard let specVersion = message.header("ce_specversion")?.stringValue else { return (message.value, nil, nil) }
        guard specVersion == CloudEvent.specVersion else { throw KafkaError(.invalidCloudEvent, "unsupported ce_specversion \(specVersion)") }
        guard let type = message.header("ce_type")?.stringValue, !type.isEmpty else { throw KafkaError(.invalidCloudEvent, "missing header ce_type") }
        guard let id = message.header("ce_id")?.stringValue, !id.isEmpty else { throw KafkaError(.invalidCloudEvent, "missing header ce_id") }
        return (message.value, type, id)
    }

    private func decodeIncident(_ message: KafkaMessage) -> MetricInput {
        do {
            let (data, type, _) = try envelope(message)
            if let type, type != EventType.incident {
                return .invalid(code: "unexpected_event_type", reason: "expected \(EventType.incident), got \(type)")
            }
            return .incident(try IncidentEventReader.read(data))
        } catch let error as KafkaError {
            return .invalid(code: "invalid_cloud_event", reason: "\(error)")
        } catch {
            return .invalid(code: "invalid_incident_event", reason: "\(error)")
        }
    }

    private func decodeDelivery(_ message: KafkaMessage) -> MetricInput {
        do {
            let (data, type, _) = try envelope(message)
            if type == EventType.alertEndpointDisabled { return .ignored }
            if let type, type != EventType.alertDelivery {
                return .invalid(code: "unexpected_event_type", reason: "expected \(EventType.alertDelivery), got \(type)")
            }
            let outcome = try CoalitionJSON.decoder.decode(DeliveryOutcomeInput.self, from: Data(data))
            guard DeliveryOutcomeInput.channels.contains(outcome.channel) else {
                return .invalid(code: "invalid_delivery_event", reason: "unknown channel \(outcome.channel)")
            }
            guard StakeholderRole(rawValue: outcome.role) != nil else {
                return .invalid(code: "invalid_delivery_event", reason: "unknown role \(outcome.role)")
            }
            if let latency = outcome.latencyMs, latency < 0 {
                return .invalid(code: "invalid_delivery_event", reason: "latency_ms must not be negative")
            }
            return .delivery(outcome)
        } catch let error as KafkaError {
            return .invalid(code: "invalid_cloud_event", reason: "\(error)")
        } catch {
            return .invalid(code: "invalid_delivery_event", reason: "\(error)")
        }
    }

    private func decodeMeeting(_ message: KafkaMessage) -> MetricInput {
        do {
            let (data, type, id) = try envelope(message)
            guard let type, let id else {
                return .invalid(code: "invalid_meeting_event", reason: "meeting events are CloudEvents (the type names the change)")
            }
            let json = Data(data)
            let change: MeetingChange
            switch type {
            case EventType.meeting("scheduled"): change = .scheduled(try CoalitionJSON.decoder.decode(MeetingEvent.Scheduled.self, from: json))
            case EventType.meeting("rescheduled"): change = .rescheduled(try CoalitionJSON.decoder.decode(MeetingEvent.Rescheduled.self, from: json))
            case EventType.meeting("cancelled"): change = .cancelled(try CoalitionJSON.decoder.decode(MeetingEvent.Cancelled.self, from: json))
            case EventType.meeting("rsvp"): change = .rsvp(try CoalitionJSON.decoder.decode(MeetingEvent.Rsvp.self, from: json))
            case EventType.meeting("attendance"): change = .attendance(try CoalitionJSON.decoder.decode(MeetingEvent.Attendance.self, from: json))
            default: return .invalid(code: "unexpected_event_type", reason: "\(type) is not a meeting event")
            }
            return .meeting(change, eventID: id)
        } catch let error as KafkaError {
            return .invalid(code: "invalid_cloud_event", reason: "\(error)")
        } catch {
            return .invalid(code: "invalid_meeting_event", reason: "\(error)")
        }
    }

    private func decodeFeedback(_ message: KafkaMessage) -> MetricInput {
        do {
            let (data, type, id) = try envelope(message)
            if let type, type != EventType.feedback {
                return .invalid(code: "unexpected_event_type", reason: "expected \(EventType.feedback), got \(type)")
            }
            let response = try CoalitionJSON.decoder.decode(FeedbackResponse.self, from: Data(data))
            guard FeedbackResponse.scores.contains(response.score) else {
                return .invalid(code: "invalid_feedback", reason: "score must be 1 to 5, got \(response.score)")
            }
            guard !response.area.isEmpty, response.area.count <= 200 else {
                return .invalid(code: "invalid_feedback", reason: "area must be 1 to 200 characters")
            }
            // Without an id of its own an answer is known by its event id, else by where it was read.
            let responseID = response.responseId ?? id ?? "\(message.topic)/\(message.partition)/\(message.offset)"
            return .feedback(response, responseID: responseID)
        } catch let error as KafkaError {
            return .invalid(code: "invalid_cloud_event", reason: "\(error)")
        } catch {
            return .invalid(code: "invalid_feedback", reason: "\(error)")
        }
    }
}
