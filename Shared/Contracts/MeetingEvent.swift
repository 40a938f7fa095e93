import Foundation

/// `coalition.meeting.*.v1` on `meetings.events` (key = the meeting id), as docs/asyncapi.yaml
/// documents them: the scheduler publishes them through its outbox; the metrics aggregator
/// counts meetings, invitations, RSVPs and attendance from them.
public enum MeetingEvent {
    public static let source = "/coalition/meeting-scheduler"

    public enum MeetingType: String, Codable, Sendable, CaseIterable {
        case coalition, jointLeadership = "joint_leadership", communityForum = "community_forum", workshop, emergency
    }

    public enum Response: String, Codable, Sendable, CaseIterable {
        case accepted, declined, tentative
    }

    /// One occurrence that takes place: the whole meeting, or one of a recurring series
    /// (occurrences the scheduler excluded are not listed).
    public struct Occurrence: Codable, Sendable, Equatable {
        public var start: Date
        public var end: Date

        public init(start: Date, end: Date) {
            self.start = start
            self.end = end
        }
    }

    public struct Invitee: Codable, Sendable, Equatable {
        @LowercaseUUID public var stakeholderId: UUID
        public var role: StakeholderRole?
        public var required: Bool

        public init(stakeholderId: UUID, role: StakeholderRole?, required: Bool) {
            self.stakeholderId = stakeholderId
            self.role = role
            self.required = required
        }
    }

    /// `coalition.meeting.scheduled.v1`.
    public struct Scheduled: Codable, Sendable, Equatable {
        @LowercaseUUID public var meetingId: UUID
        public var requestId: String?
        public var type: MeetingType
        public var title: String
        public var area: String
        public var start: Date
        public var end: Date
        public var timezone: String
        public var venueId: String?
        public var rrule: String?
        public var hotspotEpisodeId: String?
        public var invitees: [Invitee]
        public var availableInvitees: Int
        /// Every occurrence that takes place, in order (absent from older producers: then the
        /// meeting is the one occurrence `start`–`end`).
        public var occurrences: [Occurrence]?

        public init(
            meetingId: UUID, requestId: String?, type: MeetingType, title: String, area: String, start: Date, end: Date, timezone: String,
            venueId: String?, rrule: String?, hotspotEpisodeId: String?, invitees: [Invitee], availableInvitees: Int,
            occurrences: [Occurrence]? = nil
        ) {
            self.meetingId = meetingId
            self.requestId = requestId
            self.type = type
            self.title = title
            self.area = area
            self.start = start
            self.end = end
            self.timezone = timezone
            self.venueId = venueId
            self.rrule = rrule
            self.hotspotEpisodeId = hotspotEpisodeId
            self.invitees = invitees
            self.availableInvitees = availableInvitees
            self.occurrences = occurrences
        }

        // Optional members are written as null (not left out), as the contract's examples show.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(_meetingId, forKey: .meetingId)
            try container.encode(requestId, forKey: .requestId)
            try container.encode(type, forKey: .type)
            try container.encode(title, forKey: .title)
            try container.encode(area, forKey: .area)
            try container.encode(start, forKey: .start)
            try container.encode(end, forKey: .end)
            try container.encode(timezone, forKey: .timezone)
            try container.encode(venueId, forKey: .venueId)
            try container.encode(rrule, forKey: .rrule)
            try container.encode(hotspotEpisodeId, forKey: .hotspotEpisodeId)
            try container.encode(invitees, forKey: .invitees)
            try container.encode(availableInvitees, forKey: .availableInvitees)
            try container.encodeIfPresent(occurrences, forKey: .occurrences)
        }
    }

    /// `coalition.meeting.rescheduled.v1`.
    public struct Rescheduled: Codable, Sendable, Equatable {
        @LowercaseUUID public var meetingId: UUID
        public var start: Date
        public var end: Date
        public var previousStart: Date
        public var previousEnd: Date
        public var timezone: String
        public var venueId: String?
        public var reason: String?
        /// Every occurrence that takes place after the move (absent from older producers).
        public var occurrences: [Occurrence]?

        public init(
            meetingId: UUID, start: Date, end: Date, previousStart: Date, previousEnd: Date, timezone: String, venueId: String?, reason: String?,
            occurrences: [Occurrence]? = nil
        ) {
            self.meetingId = meetingId
            self.start = start
            self.end = end
            self.previousStart = previousStart
            self.previousEnd = previousEnd
            self.timezone = timezone
            self.venueId = venueId
            self.reason = reason
            self.occurrences = occurrences
        }
    }

    /// `coalition.meeting.cancelled.v1`; `occurrenceStart` names one occurrence of a series.
    public struct Cancelled: Codable, Sendable, Equatable {
        @LowercaseUUID public var meetingId: UUID
        public var occurrenceStart: Date?
        public var reason: String?
        public var cancelledAt: Date

        public init(meetingId: UUID, occurrenceStart: Date?, reason: String?, cancelledAt: Date) {
            self.meetingId = meetingId
            self.occurrenceStart = occurrenceStart
            self.reason = reason
            self.cancelledAt = cancelledAt
        }
    }

    /// `coalition.meeting.rsvp.v1`.
    public struct Rsvp: Codable, Sendable, Equatable {
        @LowercaseUUID public var meetingId: UUID
        @LowercaseUUID public var stakeholderId: UUID
        public var role: StakeholderRole?
        public var occurrenceStart: Date?
        public var response: Response
        public var respondedAt: Date

        public init(meetingId: UUID, stakeholderId: UUID, role: StakeholderRole?, occurrenceStart: Date?, response: Response, respondedAt: Date) {
            self.meetingId = meetingId
            self.stakeholderId = stakeholderId
            self.role = role
            self.occurrenceStart = occurrenceStart
            self.response = response
            self.respondedAt = respondedAt
        }
    }

    /// `coalition.meeting.attendance.v1`.
    public struct Attendance: Codable, Sendable, Equatable {
        @LowercaseUUID public var meetingId: UUID
        @LowercaseUUID public var stakeholderId: UUID
        public var role: StakeholderRole?
        public var occurrenceStart: Date?
        public var attended: Bool
        public var recordedAt: Date

        public init(meetingId: UUID, stakeholderId: UUID, role: StakeholderRole?, occurrenceStart: Date?, attended: Bool, recordedAt: Date) {
            self.meetingId = meetingId
            self.stakeholderId = stakeholderId
            self.role = role
            self.occurrenceStart = occurrenceStart
            self.attended = attended
            self.recordedAt = recordedAt
        }
    }
}
