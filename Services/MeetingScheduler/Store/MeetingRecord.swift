import Contracts
import Foundation

/// A meeting as the API shows it (`GET /v1/meetings/{id}`, the answer to a request).
public struct MeetingRecord: Codable, Sendable, Equatable {
    public struct Invitee: Codable, Sendable, Equatable {
        @LowercaseUUID public var stakeholderId: UUID
        public var name: String
        public var role: StakeholderRole
        public var required: Bool
        public var available: Bool
        public var response: String?
    }

    public struct Occurrence: Codable, Sendable, Equatable {
        public var start: Date
        public var end: Date
        public var status: String
        public var venueId: String?
        public var reason: String?
    }

    @LowercaseUUID public var meetingId: UUID
    @LowercaseUUID public var requestId: UUID
    public var type: MeetingEvent.MeetingType
    public var title: String
    public var area: String
    public var timezone: String
    public var start: Date
    public var end: Date
    public var venueId: String?
    public var venueName: String?
    public var rrule: String?
    public var sequence: Int
    public var status: String
    public var hotspotEpisodeId: String?
    public var availableInvitees: Int
    public var invitees: [Invitee]
    public var occurrences: [Occurrence]
    public var updatedAt: Date

    var timeZone: TimeZone { TimeZone(identifier: timezone) ?? .gmt }

    /// The RFC 5545 event: EXDATEs for occurrences that do not take place.
    var calendarEvent: CalendarEvent {
        let where_ = [venueName, area].compactMap { $0 }.joined(separator: ", ")
        return CalendarEvent(
            meetingID: meetingId, sequence: sequence, start: start, end: end, timeZone: timeZone, summary: title,
            description: "\(type.rawValue.replacingOccurrences(of: "_", with: " ").capitalized) meeting of the coalition in \(area).",
            location: where_.isEmpty ? nil : where_, rrule: rrule,
            exceptions: rrule == nil ? [] : occurrences.filter { $0.status != "scheduled" }.map(\.start),
            cancelled: status == "cancelled",
            attendees: invitees.map { .init(stakeholderID: $0.stakeholderId, name: $0.name, required: $0.required, response: $0.response) },
            updatedAt: updatedAt)
    }

    var scheduledEvent: MeetingEvent.Scheduled {
        MeetingEvent.Scheduled(
            meetingId: meetingId, requestId: requestId.uuidString.lowercased(), type: type, title: title, area: area, start: start, end: end,
            timezone: timezone, venueId: venueId, rrule: rrule, hotspotEpisodeId: hotspotEpisodeId,
            invitees: invitees.map { .init(stakeholderId: $0.stakeholderId, role: $0.role, required: $0.required) },
            availableInvitees: availableInvitees, occurrences: scheduledOccurrences)
    }

    /// The occurrences that take place (what the metrics count as meetings).
    var scheduledOccurrences: [MeetingEvent.Occurrence] {
        occurrences.filter { $0.status == "scheduled" }.map { MeetingEvent.Occurrence(start: $0.start, end: $0.end) }
    }
}
