import Contracts
import Foundation
import Kafka
import Testing
import TestSupport

/// Engagement and perceived safety through the running aggregator: meetings as the scheduler
/// describes them (occurrences, invitees by role, RSVPs, attendance, cancellations, a
/// reschedule, a redelivered event) and survey answers (a duplicate, an invalid score).
@Suite("Engagement and perceived-safety metrics through the running aggregator", .serialized)
struct EngagementMetricsTests {
    static func time(_ text: String) -> Date { try! Date.ISO8601FormatStyle().parse(text) }

    @Test("meetings, invitations, RSVPs and attendance by area and role follow every event once; perceived safety is the mean of each answer once")
    func engagement() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("metricsengage") + "."
            let meetings = prefix + "meetings.events"
            let feedback = prefix + "feedback.responses"
            try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix)

                let police1 = UUID(), police2 = UUID(), organiser = UUID(), resident = UUID(), official = UUID()
                let first = Self.time("2025-03-11T18:00:00Z"), second = Self.time("2025-03-18T18:00:00Z")
                // A weekly meeting downtown: two occurrences, four invitees (one without a role).
                let weekly = UUID()
                let scheduled = MeetingEvent.Scheduled(
                    meetingId: weekly, requestId: nil, type: .coalition, title: "Weekly", area: "downtown", start: first,
                    end: first.addingTimeInterval(3600), timezone: "UTC", venueId: nil, rrule: "FREQ=WEEKLY;COUNT=2", hotspotEpisodeId: nil,
                    invitees: [
                        .init(stakeholderId: police1, role: .lawEnforcement, required: true), .init(stakeholderId: police2, role: .lawEnforcement, required: false),
                        .init(stakeholderId: organiser, role: .communityOrg, required: true), .init(stakeholderId: resident, role: nil, required: false),
                    ],
                    availableInvitees: 4,
                    occurrences: [.init(start: first, end: first.addingTimeInterval(3600)), .init(start: second, end: second.addingTimeInterval(3600))])
                // A one-off meeting in the harbor, cancelled as a whole later.
                let harbor = UUID()
                let harborMeeting = MeetingEvent.Scheduled(
                    meetingId: harbor, requestId: nil, type: .communityForum, title: "Forum", area: "harbor", start: first,
                    end: first.addingTimeInterval(5400), timezone: "UTC", venueId: nil, rrule: nil, hotspotEpisodeId: nil,
                    invitees: [.init(stakeholderId: official, role: .localGovernment, required: true)], availableInvitees: 1)
                // A meeting moved from the 11th to the 12th (older producers send no occurrence list).
                let moved = UUID()
                let movedMeeting = MeetingEvent.Scheduled(
                    meetingId: moved, requestId: nil, type: .workshop, title: "Workshop", area: "downtown", start: first,
                    end: first.addingTimeInterval(3600), timezone: "UTC", venueId: nil, rrule: nil, hotspotEpisodeId: nil,
                    invitees: [.init(stakeholderId: organiser, role: .communityOrg, required: true)], availableInvitees: 1)
                let newStart = first.addingTimeInterval(86_400)

                func event(_ payload: some Encodable, _ name: String, _ meeting: UUID, id: String = UUID().uuidString) throws -> KafkaRecord {
                    try MetricsFixtures.event(payload, type: EventType.meeting(name), id: id, key: meeting.uuidString.lowercased(), topic: meetings)
                }
                let scheduledRecord = try event(scheduled, "scheduled", weekly, id: "weekly-scheduled")
                var records = [
                    scheduledRecord,
                    try event(harborMeeting, "scheduled", harbor),
                    try event(movedMeeting, "scheduled", moved),
                    // police1 accepts the series; the organiser declines only the second occurrence.
                    try event(MeetingEvent.Rsvp(meetingId: weekly, stakeholderId: police1, role: .lawEnforcement, occurrenceStart: nil, response: .accepted, respondedAt: first.addingTimeInterval(-86_400)), "rsvp", weekly),
                    try event(MeetingEvent.Rsvp(meetingId: weekly, stakeholderId: organiser, role: .communityOrg, occurrenceStart: second, response: .declined, respondedAt: first.addingTimeInterval(-86_400)), "rsvp", weekly),
                    try event(MeetingEvent.Rsvp(meetingId: weekly, stakeholderId: resident, role: nil, occurrenceStart: first, response: .tentative, respondedAt: first.addingTimeInterval(-3600)), "rsvp", weekly),
                    // At the first occurrence police1 and the resident come; police2 does not.
                    try event(MeetingEvent.Attendance(meetingId: weekly, stakeholderId: police1, role: .lawEnforcement, occurrenceStart: first, attended: true, recordedAt: first), "attendance", weekly),
                    try event(MeetingEvent.Attendance(meetingId: weekly, stakeholderId: resident, role: nil, occurrenceStart: first, attended: true, recordedAt: first), "attendance", weekly),
                    try event(MeetingEvent.Attendance(meetingId: weekly, stakeholderId: police2, role: .lawEnforcement, occurrenceStart: first, attended: false, recordedAt: first), "attendance", weekly),
                    // The second occurrence is cancelled; the harbor forum entirely.
                    try event(MeetingEvent.Cancelled(meetingId: weekly, occurrenceStart: second, reason: "holiday", cancelledAt: first), "cancelled", weekly),
                    try event(MeetingEvent.Cancelled(meetingId: harbor, occurrenceStart: nil, reason: nil, cancelledAt: first), "cancelled", harbor),
                    try event(MeetingEvent.Rescheduled(
                        meetingId: moved, start: newStart, end: newStart.addingTimeInterval(3600), previousStart: first, previousEnd: first.addingTimeInterval(3600),
                        timezone: "UTC", venueId: nil, reason: nil), "rescheduled", moved),
                ]
                // The scheduled event delivered again after all that (same ce_id): it must not
                // bring the cancelled occurrence back.
                records.append(scheduledRecord)
                // Not a meeting event at all.
                records.append(KafkaRecord(topic: meetings, key: "x", value: "{}", headers: [
                    KafkaHeader(key: "ce_specversion", string: "1.0"), KafkaHeader(key: "ce_id", string: "x"), KafkaHeader(key: "ce_source", string: "/test"),
                    KafkaHeader(key: "ce_type", string: "coalition.meeting.dance.v1"), KafkaHeader(key: "content-type", string: "application/json"),
                ]))
                // Meeting events share a key per meeting: publish in order.
                for record in records { try await MetricsFixtures.publish([record]) }

                // Survey answers: downtown (two roles) and harbor; one sent twice; one invalid.
                let scores: [(String, StakeholderRole?, Int)] = [
                    ("downtown", .resident, 2), ("downtown", .resident, 3), ("downtown", .resident, 4), ("downtown", .business, 5),
                    ("downtown", nil, 1), ("harbor", .resident, 4), ("harbor", .resident, 5),
                ]
                var answers: [KafkaRecord] = []
                for (index, (area, role, score)) in scores.enumerated() {
                    let response = FeedbackResponse(responseId: "survey-\(index)", area: area, score: score, respondedAt: first.addingTimeInterval(Double(index) * 3600), role: role)
                    answers.append(try MetricsFixtures.event(response, type: EventType.feedback, key: area, topic: feedback))
                }
                answers.append(answers[0])
                answers.append(try MetricsFixtures.event(
                    FeedbackResponse(responseId: "again-0", area: "downtown", score: 2, respondedAt: first, role: .resident), type: EventType.feedback,
                    id: "same-answer-new-event", key: "downtown", topic: feedback))
                var duplicateByID = answers.last!
                duplicateByID.headers = duplicateByID.headers.map { $0.key == "ce_id" ? KafkaHeader(key: "ce_id", string: "another-event") : $0 }
                answers.append(duplicateByID)
                answers.append(try MetricsFixtures.event(
                    FeedbackResponse(responseId: "bad", area: "downtown", score: 7, respondedAt: first), type: EventType.feedback, key: "downtown", topic: feedback))
                try await MetricsFixtures.publish(answers)

                try await MetricsFixtures.waitUntilApplied(postgres, topic: meetings, count: records.count, service: service)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: feedback, count: answers.count, service: service)

                let range = "&from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z"
                func day(_ area: String, _ role: String) async throws -> [Date: [String: Any]] {
                    try await MetricsFixtures.series(service, "/v1/metrics/engagement?granularity=day&area=\(area)&role=\(role)" + range)
                }
                let downtown = try await day("downtown", "*")
                let firstDay = Self.time("2025-03-11T00:00:00Z"), secondDay = Self.time("2025-03-18T00:00:00Z"), movedDay = Self.time("2025-03-12T00:00:00Z")
                let onFirst = try #require(downtown[firstDay])
                #expect(onFirst["meetings_scheduled"] as? Int == 1, "the workshop moved away; the weekly meeting stays")
                #expect(onFirst["meetings_held"] as? Int == 1)
                #expect(onFirst["invitations"] as? Int == 4)
                #expect(onFirst["rsvps_accepted"] as? Int == 1, "police1's answer for the series applies")
                #expect(onFirst["rsvps_declined"] as? Int == 0, "the organiser declined the second occurrence only")
                #expect(onFirst["rsvps_tentative"] as? Int == 1)
                #expect(onFirst["attended"] as? Int == 2)
                #expect((onFirst["attendance_rate"] as? Double).map { abs($0 - 0.5) < 1e-9 } == true)
                let onSecond = try #require(downtown[secondDay], "the cancelled occurrence's window was re-emitted")
                #expect(onSecond["meetings_scheduled"] as? Int == 0)
                #expect(onSecond["invitations"] as? Int == 0)
                #expect(onSecond["attendance_rate"] is NSNull)
                let onMovedDay = try #require(downtown[movedDay])
                #expect(onMovedDay["meetings_scheduled"] as? Int == 1)
                #expect(onMovedDay["invitations"] as? Int == 1)

                let police = try #require(try await day("downtown", "law_enforcement")[firstDay])
                #expect(police["invitations"] as? Int == 2)
                #expect(police["rsvps_accepted"] as? Int == 1)
                #expect(police["attended"] as? Int == 1)
                #expect((police["attendance_rate"] as? Double).map { abs($0 - 0.5) < 1e-9 } == true)
                let unspecified = try #require(try await day("downtown", "unspecified")[firstDay])
                #expect(unspecified["attended"] as? Int == 1)
                let harborDay = try #require(try await day("harbor", "*")[firstDay], "the cancelled forum's window was re-emitted")
                #expect(harborDay["meetings_scheduled"] as? Int == 0)
                let everywhere = try #require(try await day("*", "*")[firstDay])
                #expect(everywhere["meetings_scheduled"] as? Int == 1)
                #expect(everywhere["invitations"] as? Int == 4)

                // Perceived safety per month: each answer once; the invalid one parked.
                func safety(_ area: String, _ role: String) async throws -> [String: Any]? {
                    try await MetricsFixtures.series(service, "/v1/metrics/perceived-safety?granularity=month&area=\(area)&role=\(role)" + range)[Self.time("2025-03-01T00:00:00Z")]
                }
                func mean(_ values: [Int]) -> Double { Double(values.reduce(0, +)) / Double(values.count) }
                let downtownSafety = try #require(try await safety("downtown", "*"))
                let downtownScores = scores.filter { $0.0 == "downtown" }.map(\.2) + [2]
                #expect(downtownSafety["responses"] as? Int == downtownScores.count)
                #expect((downtownSafety["mean_score"] as? Double).map { abs($0 - mean(downtownScores)) < 1e-9 } == true)
                let residents = try #require(try await safety("*", "resident"))
                let residentScores = scores.filter { $0.1 == .resident }.map(\.2) + [2]
                #expect(residents["responses"] as? Int == residentScores.count)
                #expect((residents["mean_score"] as? Double).map { abs($0 - mean(residentScores)) < 1e-9 } == true)
                #expect(try #require(try await safety("*", "*"))["responses"] as? Int == scores.count + 1)

                let deadMeetings = try await TopicFixture.readAll(topic: meetings + ".dlt") { $0.count >= 1 }
                #expect(deadMeetings.first?.header(DeadLetterPublisher.Header.errorCode)?.stringValue == "unexpected_event_type")
                let deadAnswers = try await TopicFixture.readAll(topic: feedback + ".dlt") { $0.count >= 1 }
                #expect(deadAnswers.count == 1)
                #expect(deadAnswers.first?.header(DeadLetterPublisher.Header.errorCode)?.stringValue == "invalid_feedback")

                // Both metrics travel on metrics.engagement, keyed by window and dimensions.
                let published = try await TopicFixture.readAll(topic: prefix + "metrics.engagement") { messages in
                    let keys = Set(messages.compactMap(\.keyString))
                    return keys.contains("day/2025-03-11T00:00:00Z/downtown/law_enforcement") && keys.contains("month/2025-03-01T00:00:00Z/harbor/resident")
                }
                let metricsSeen = Set(published.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.value)) as? [String: Any])?["metric"] as? String })
                #expect(metricsSeen == ["engagement", "perceived-safety"])
                #expect(try await service.stop() == 0)
            }
        }
    }
}
