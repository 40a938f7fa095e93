import Contracts
import Foundation
import Testing

/// The `meetings.events` payloads carry exactly the members docs/asyncapi.yaml documents
/// (components.schemas.MeetingScheduled … MeetingAttendance), snake_case, nulls written out.
@Suite("Meeting event shapes")
struct MeetingEventShapeTests {
    func keys(_ value: some Encodable) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: CoalitionJSON.encoder.encode(value)) as? [String: Any])
    }

    @Test("scheduled, rescheduled, cancelled, rsvp and attendance payloads match the AsyncAPI schemas")
    func shapes() throws {
        let id = UUID(), person = UUID(), now = Date(timeIntervalSince1970: 1_736_900_000)
        let scheduled = try keys(MeetingEvent.Scheduled(
            meetingId: id, requestId: nil, type: .jointLeadership, title: "t", area: "a", start: now, end: now, timezone: "UTC", venueId: nil,
            rrule: nil, hotspotEpisodeId: nil, invitees: [.init(stakeholderId: person, role: .lawEnforcement, required: true)], availableInvitees: 1))
        #expect(Set(scheduled.keys) == ["meeting_id", "request_id", "type", "title", "area", "start", "end", "timezone", "venue_id", "rrule",
                                         "hotspot_episode_id", "invitees", "available_invitees"])
        #expect(scheduled["type"] as? String == "joint_leadership")
        #expect(scheduled["venue_id"] is NSNull)
        #expect(scheduled["meeting_id"] as? String == id.uuidString.lowercased())
        let invitee = try #require((scheduled["invitees"] as? [[String: Any]])?.first)
        #expect(Set(invitee.keys) == ["stakeholder_id", "role", "required"])
        #expect(invitee["role"] as? String == "law_enforcement")

        let moved = try keys(MeetingEvent.Rescheduled(
            meetingId: id, start: now, end: now, previousStart: now, previousEnd: now, timezone: "UTC", venueId: "v", reason: "r"))
        #expect(Set(moved.keys) == ["meeting_id", "start", "end", "previous_start", "previous_end", "timezone", "venue_id", "reason"])
        let cancelled = try keys(MeetingEvent.Cancelled(meetingId: id, occurrenceStart: now, reason: "r", cancelledAt: now))
        #expect(Set(cancelled.keys) == ["meeting_id", "occurrence_start", "reason", "cancelled_at"])
        let rsvp = try keys(MeetingEvent.Rsvp(meetingId: id, stakeholderId: person, role: .communityOrg, occurrenceStart: nil, response: .tentative, respondedAt: now))
        #expect(Set(rsvp.keys) == ["meeting_id", "stakeholder_id", "role", "response", "responded_at"])
        #expect(rsvp["response"] as? String == "tentative")
        let attendance = try keys(MeetingEvent.Attendance(meetingId: id, stakeholderId: person, role: nil, occurrenceStart: now, attended: true, recordedAt: now))
        #expect(Set(attendance.keys) == ["meeting_id", "stakeholder_id", "occurrence_start", "attended", "recorded_at"])
        // Round trip through the decoder other services use.
        let data = try CoalitionJSON.encoder.encode(MeetingEvent.Rsvp(
            meetingId: id, stakeholderId: person, role: .communityOrg, occurrenceStart: now, response: .accepted, respondedAt: now))
        #expect(try CoalitionJSON.decoder.decode(MeetingEvent.Rsvp.self, from: data).response == .accepted)
    }
}
