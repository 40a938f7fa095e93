import Foundation

/// One VEVENT: a meeting (a series when `rrule` is set) as calendars see it.
public struct CalendarEvent: Sendable, Equatable {
    public struct Attendee: Sendable, Equatable {
        public var stakeholderID: UUID
        public var name: String
        public var required: Bool
        public var response: String?
    }

    public var meetingID: UUID
    public var sequence: Int
    public var start: Date
    public var end: Date
    public var timeZone: TimeZone
    public var summary: String
    public var description: String
    public var location: String?
    /// Canonical RRULE value (without the `RRULE:` name).
    public var rrule: String?
    /// Occurrences of the series that do not take place (could not be placed, or cancelled).
    public var exceptions: [Date]
    public var cancelled: Bool
    public var attendees: [Attendee]
    public var updatedAt: Date

    public var uid: String { "\(meetingID.uuidString.lowercased())@meeting-scheduler.coalition" }
}
