import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import MeetingScheduler

/// The running service over HTTP, with PostgreSQL and Kafka: bad input, a meeting's life
/// (invitation, RSVP, attendance, cancellation), recurrence across daylight saving with the
/// Python calendar judges, and concurrent requests for the same people and venue.
extension SchedulerIntegrationTests {
    @Suite("Scheduler service", .serialized)
    struct ServiceTests {
        static let window = ["start": "2025-10-14T13:00:00Z", "end": "2025-10-15T02:00:00Z"]

        func request(_ invitees: [UUID], representation: [String: Int] = [:], extra: [String: Any] = [:]) -> [String: Any] {
            var body: [String: Any] = [
                "type": "coalition", "title": "Brooklyn coalition meeting", "area": "brooklyn-05", "duration_minutes": 60, "window": Self.window,
                "timezone": "America/New_York", "invitees": invitees.map { ["stakeholder_id": $0.uuidString.lowercased(), "required": true] },
                "representation": representation,
            ]
            for (key, value) in extra { body[key] = value }
            return body
        }

        @Test("bad input gets 422 with the reason: unknown stakeholder, short window, invalid RRULE part, unsatisfiable representation")
        func badInput() async throws {
            try await SchedulerHarness.with("schedbad") { harness in
                let police = try await harness.stakeholder("Officer Diaz", .lawEnforcement)
                let unknown = UUID()
                let unauthenticated = try await harness.post("/v1/meetings/requests", request([police]), token: nil)
                #expect(unauthenticated.status == 401)

                let stranger = try await harness.post("/v1/meetings/requests", request([police, unknown]))
                #expect(stranger.status == 422)
                #expect(stranger.text.contains("no stakeholder \(unknown.uuidString.lowercased())"))
                #expect(stranger.text.contains("invitees[1].stakeholder_id"))

                let short = try await harness.post("/v1/meetings/requests", request([police], extra: [
                    "window": ["start": "2025-10-14T13:00:00Z", "end": "2025-10-14T13:30:00Z"]]))
                #expect(short.status == 422)
                #expect(short.text.contains("window_too_short"))
                #expect(short.text.contains("shorter than the meeting (60 minutes)"))

                let rule = try await harness.post("/v1/meetings/requests", request([police], extra: ["rrule": "FREQ=WEEKLY;BYHOUR=18;COUNT=3"]))
                #expect(rule.status == 422)
                #expect(rule.text.contains("BYHOUR is not supported"))

                let representation = try await harness.post("/v1/meetings/requests", request([police], representation: ["local_government": 1, "law_enforcement": 1]))
                #expect(representation.status == 422)
                #expect(representation.json["detail"] as? String == "no local_government member is invited; nearest miss: Tue 14 Oct 09:00, 1 of 2 roles")

                // Invited but never free: the reason names the role and the nearest miss in local time.
                let official = try await harness.stakeholder("Council member Okafor", .localGovernment)
                let busy = try await harness.post("/v1/stakeholders/\(official.uuidString.lowercased())/busy", ["start": "2025-10-14T00:00:00Z", "end": "2025-10-16T00:00:00Z"])
                #expect(busy.status == 201)
                let never = try await harness.post("/v1/meetings/requests", request([police, official], representation: ["local_government": 1, "law_enforcement": 1]))
                #expect(never.status == 422)
                #expect(never.json["detail"] as? String == "no slot has a local_government member available; nearest miss: Tue 14 Oct 09:00, 1 of 2 roles")
                let count = try await harness.postgres.query("SELECT count(*) FROM meetings").first?.decode(0, as: Int.self)
                #expect(count == 0)
            }
        }

        @Test("a meeting: 201 with the slot, invitation .ics on alerts.requested, RSVP, attendance, cancellation with SEQUENCE 1 and METHOD:CANCEL")
        func lifecycle() async throws {
            try await SchedulerHarness.with("schedlife") { harness in
                let police = try await harness.stakeholder("Officer Diaz", .lawEnforcement)
                let organiser = try await harness.stakeholder("Ms Reyes", .communityOrg)
                let official = try await harness.stakeholder("Council member Okafor", .localGovernment)
                // The official is only free on Tuesday evenings (New York time).
                #expect(try await harness.put("/v1/stakeholders/\(official.uuidString.lowercased())/availability",
                                              ["windows": [["weekday": "TU", "start": "18:00", "end": "21:00"]]]) == 204)
                let venue = try await harness.venue(capacity: 40)
                let answer = try await harness.post("/v1/meetings/requests", request(
                    [police, organiser, official], representation: ["law_enforcement": 1, "community_org": 1, "local_government": 1],
                    extra: ["venue": ["min_capacity": 20, "accessible": true]]))
                #expect(answer.status == 201, "\(answer.text)")
                #expect(answer.json["start"] as? String == "2025-10-14T22:00:00.000Z")
                #expect(answer.json["venue_id"] as? String == venue)
                #expect(answer.json["available_invitees"] as? Int == 3)
                let meeting = try #require(answer.json["meeting_id"] as? String)

                let scheduled = try await harness.records("meetings.events", atLeast: 1)
                #expect(scheduled.first?.header("ce_type") == "coalition.meeting.scheduled.v1")
                #expect(scheduled.first?.json["meeting_id"] as? String == meeting)
                #expect((scheduled.first?.json["invitees"] as? [Any])?.count == 3)
                let invitations = try await harness.records("alerts.requested", atLeast: 1)
                let invitation = try #require(invitations.first?.json)
                #expect(invitation["kind"] as? String == "meeting_invitation")
                #expect((invitation["recipients"] as? [Any])?.count == 3)
                let attachment = try #require((invitation["attachments"] as? [[String: Any]])?.first)
                #expect(attachment["content_type"] as? String == "text/calendar; method=REQUEST")
                let ics = String(decoding: Data(base64Encoded: attachment["content_base64"] as? String ?? "") ?? Data(), as: UTF8.self)
                #expect(ics.contains("METHOD:REQUEST\r\n"))
                #expect(ics.contains("DTSTART;TZID=America/New_York:20251014T180000\r\n"))
                #expect(ics.contains("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"))

                let rsvp = try await harness.post("/v1/meetings/\(meeting)/rsvp", ["stakeholder_id": organiser.uuidString.lowercased(), "response": "accepted"])
                #expect(rsvp.status == 204)
                let outsider = try await harness.post("/v1/meetings/\(meeting)/rsvp", ["stakeholder_id": UUID().uuidString, "response": "accepted"])
                #expect(outsider.status == 422)
                let badAnswer = try await harness.post("/v1/meetings/\(meeting)/rsvp", ["stakeholder_id": organiser.uuidString.lowercased(), "response": "maybe"])
                #expect(badAnswer.status == 422)
                let attendance = try await harness.post("/v1/meetings/\(meeting)/attendance", ["stakeholder_id": police.uuidString.lowercased(), "attended": true])
                #expect(attendance.status == 201)
                let cancelled = try await harness.post("/v1/meetings/\(meeting)/cancel", ["reason": "venue flooded"])
                #expect(cancelled.status == 200)
                #expect(cancelled.json["sequence"] as? Int == 1)
                #expect(try await harness.post("/v1/meetings/\(meeting)/cancel", [:]).status == 409)

                let events = try await harness.records("meetings.events", atLeast: 4)
                #expect(events.map { $0.header("ce_type") ?? "" } == ["scheduled", "rsvp", "attendance", "cancelled"].map { "coalition.meeting.\($0).v1" })
                #expect(Set(events.map { $0.key.map { String(decoding: $0, as: UTF8.self) } ?? "" }) == [meeting])
                #expect(events[1].json["role"] as? String == "community_org")
                #expect(events[3].json["reason"] as? String == "venue flooded")
                let requests = try await harness.records("alerts.requested", atLeast: 2)
                let cancellation = try #require(requests.last?.json)
                #expect(cancellation["kind"] as? String == "meeting_cancellation")
                let cancelICS = String(decoding: Data(base64Encoded: ((cancellation["attachments"] as? [[String: Any]])?.first?["content_base64"] as? String) ?? "") ?? Data(), as: UTF8.self)
                #expect(cancelICS.contains("METHOD:CANCEL\r\n") && cancelICS.contains("SEQUENCE:1\r\n") && cancelICS.contains("STATUS:CANCELLED\r\n"))
                // The people and the venue are free again.
                let bookings = try await harness.postgres.query("SELECT count(*) FROM attendee_bookings").first?.decode(0, as: Int.self)
                #expect(bookings == 0)
            }
        }

        @Test("rescheduling moves the meeting, frees the old slot, increments SEQUENCE and sends the update")
        func reschedule() async throws {
            try await SchedulerHarness.with("schedmove") { harness in
                let police = try await harness.stakeholder("Officer Diaz", .lawEnforcement)
                let answer = try await harness.post("/v1/meetings/requests", request([police], representation: ["law_enforcement": 1]))
                #expect(answer.status == 201)
                let meeting = try #require(answer.json["meeting_id"] as? String)
                #expect(answer.json["start"] as? String == "2025-10-14T13:00:00.000Z")
                let moved = try await harness.post("/v1/meetings/\(meeting)/reschedule", [
                    "window": ["start": "2025-10-16T20:00:00Z", "end": "2025-10-16T23:00:00Z"], "reason": "council session"])
                #expect(moved.status == 200, "\(moved.text)")
                #expect(moved.json["start"] as? String == "2025-10-16T20:00:00.000Z")
                #expect(moved.json["sequence"] as? Int == 1)
                let bookings = try await harness.postgres.query("SELECT lower(span) FROM attendee_bookings").map { RFC3339.string(from: try $0.decode(0, as: Date.self)) }
                #expect(bookings == ["2025-10-16T20:00:00.000Z"])
                let events = try await harness.records("meetings.events", atLeast: 2)
                #expect(events.last?.header("ce_type") == "coalition.meeting.rescheduled.v1")
                #expect(events.last?.json["previous_start"] as? String == "2025-10-14T13:00:00.000Z")
                #expect(events.last?.json["reason"] as? String == "council session")
                let update = try #require(try await harness.records("alerts.requested", atLeast: 2).last?.json)
                #expect(update["kind"] as? String == "meeting_update")
                let ics = String(decoding: Data(base64Encoded: ((update["attachments"] as? [[String: Any]])?.first?["content_base64"] as? String) ?? "") ?? Data(), as: UTF8.self)
                #expect(ics.contains("METHOD:REQUEST\r\n") && ics.contains("SEQUENCE:1\r\n") && ics.contains("DTSTART;TZID=America/New_York:20251016T160000\r\n"))
                let tooShort = try await harness.post("/v1/meetings/\(meeting)/reschedule", ["window": ["start": "2025-10-16T20:00:00Z", "end": "2025-10-16T20:30:00Z"]])
                #expect(tooShort.status == 422)
            }
        }

        @Test("weekly 18:00 across the November change stays 18:00 local; a blocked occurrence is an EXDATE with the reason; Python icalendar expands the same occurrences")
        func recurrenceAndJudge() async throws {
            try await SchedulerHarness.with("schedrrule") { harness in
                let police = try await harness.stakeholder("Officer Diaz", .lawEnforcement)
                let official = try await harness.stakeholder("Council member Okafor", .localGovernment)
                #expect(try await harness.put("/v1/stakeholders/\(official.uuidString.lowercased())/availability",
                                              ["windows": [["weekday": "TU", "start": "18:00", "end": "21:00"]]]) == 204)
                // Away on 28 October: that occurrence cannot have local government at the table.
                let away = try await harness.post("/v1/stakeholders/\(official.uuidString.lowercased())/busy",
                                                  ["start": "2025-10-28T04:00:00Z", "end": "2025-10-29T04:00:00Z", "reason": "travel"])
                #expect(away.status == 201)
                let answer = try await harness.post("/v1/meetings/requests", request(
                    [police, official], representation: ["law_enforcement": 1, "local_government": 1],
                    extra: ["rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=5", "window": ["start": "2025-10-13T00:00:00Z", "end": "2025-10-20T00:00:00Z"]]))
                #expect(answer.status == 201, "\(answer.text)")
                let meeting = try #require(answer.json["meeting_id"] as? String)
                let occurrences = try #require(answer.json["occurrences"] as? [[String: Any]])
                #expect(occurrences.map { $0["start"] as? String ?? "" }
                    == ["2025-10-14T22:00:00Z", "2025-10-21T22:00:00Z", "2025-10-28T22:00:00Z", "2025-11-04T23:00:00Z", "2025-11-11T23:00:00Z"].map { $0.replacingOccurrences(of: ":00Z", with: ":00.000Z") })
                #expect(occurrences.map { $0["status"] as? String ?? "" } == ["scheduled", "scheduled", "excluded", "scheduled", "scheduled"])
                #expect(occurrences[2]["reason"] as? String == "no slot has a local_government member available")

                let token = try await harness.post("/v1/stakeholders/\(police.uuidString.lowercased())/calendar-token", [:])
                #expect(token.status == 201)
                let feedURL = harness.service.baseURL + (try #require(token.json["url"] as? String))
                let judge = try ChildProcess(try TestEnvironment.python(), arguments: [
                    TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/ics_judge.py").path,
                    harness.service.baseURL + "/v1/meetings/\(meeting).ics", feedURL, "--from", "2025-10-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z",
                ])
                let status = try await judge.waitForExit(timeout: .seconds(60))
                let report = try #require(try JSONSerialization.jsonObject(with: Data(judge.lines.joined().utf8)) as? [String: Any], "\(judge.standardError)")
                #expect(status == 0, "\(report["errors"] ?? "") \(judge.standardError)")
                let stored = try await harness.postgres.query("""
                    SELECT occurrence_start FROM meeting_occurrences WHERE meeting_id = \(UUID(uuidString: meeting)!) AND status = 'scheduled' ORDER BY 1
                    """).map { RFC3339.string(from: try $0.decode(0, as: Date.self)).replacingOccurrences(of: ".000", with: "") }
                #expect(stored.count == 4)
                for calendar in report["calendars"] as? [[String: Any]] ?? [] {
                    let expanded = (calendar["occurrences"] as? [[String: Any]] ?? []).map { $0["start"] as? String ?? "" }
                    #expect(expanded == stored, "\(calendar["source"] ?? "")")
                    #expect(calendar["timezones"] as? [String] == ["America/New_York"])
                    let event = (calendar["events"] as? [[String: Any]])?.first
                    #expect(event?["exdates"] as? [String] == ["2025-10-28T22:00:00Z"])
                }
                #expect((report["calendars"] as? [Any])?.count == 2)
                #expect(try await HTTPProbe.get(harness.service.baseURL + "/v1/calendars/not-a-token.ics").0 == 404)
            }
        }

        @Test("50 parallel requests for the same venue and people: the database refuses overlaps, the service retries, exactly the four free hours are booked")
        func concurrentRequests() async throws {
            try await SchedulerHarness.with("schedrace") { harness in
                let people = [
                    try await harness.stakeholder("Officer Diaz", .lawEnforcement),
                    try await harness.stakeholder("Ms Reyes", .communityOrg),
                    try await harness.stakeholder("Council member Okafor", .localGovernment),
                ]
                _ = try await harness.venue(capacity: 25)
                // 14:00–18:00 New York time: room for four one-hour meetings, no more.
                let body = request(people, representation: ["law_enforcement": 1, "community_org": 1, "local_government": 1], extra: [
                    "window": ["start": "2025-10-14T18:00:00Z", "end": "2025-10-14T22:00:00Z"], "venue": ["min_capacity": 10]])
                let data = try JSONSerialization.data(withJSONObject: body)
                let address = harness.service.baseURL + "/v1/meetings/requests"
                let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for _ in 0..<50 { group.addTask { try await HTTPProbe.post(address, body: data, bearer: SchedulerHarness.operatorToken) } }
                    var all: [(Int, String)] = []
                    for try await answer in group { all.append(answer) }
                    return all
                }
                // How often PostgreSQL refused a booking and the service planned again (shown, not asserted: it depends on timing).
            let metrics = try await HTTPProbe.get(harness.service.baseURL + "/metrics").1
            print("booking retries after 50 parallel requests:", metrics.split(separator: "\n").filter { $0.hasPrefix("coalition_scheduler_booking_retries_total") })
            let created = statuses.filter { $0.0 == 201 }
                #expect(created.count == 4)
                #expect(statuses.allSatisfy { $0.0 == 201 || $0.0 == 422 }, "\(statuses.filter { $0.0 != 201 && $0.0 != 422 })")
                #expect(statuses.filter { $0.0 == 422 }.allSatisfy { $0.1.contains("no venue") || $0.1.contains("no slot has") })
                let overlaps = try await harness.postgres.query("""
                    SELECT count(*) FROM attendee_bookings a JOIN attendee_bookings b
                      ON a.stakeholder_id = b.stakeholder_id AND a.meeting_id < b.meeting_id AND a.span && b.span
                    """).first?.decode(0, as: Int.self)
                #expect(overlaps == 0)
                let venueOverlaps = try await harness.postgres.query("""
                    SELECT count(*) FROM meeting_occurrences a JOIN meeting_occurrences b
                      ON a.venue_id = b.venue_id AND a.meeting_id < b.meeting_id AND a.venue_span && b.venue_span
                    WHERE a.status = 'scheduled' AND b.status = 'scheduled'
                    """).first?.decode(0, as: Int.self)
                #expect(venueOverlaps == 0)
                let starts = try await harness.postgres.query("SELECT occurrence_start FROM meeting_occurrences ORDER BY 1").map { try $0.decode(0, as: Date.self) }
                #expect(starts.map { RFC3339.string(from: $0) } == ["18", "19", "20", "21"].map { "2025-10-14T\($0):00:00.000Z" })
            }
        }

        @Test("the exclusion constraints themselves refuse a double booking written directly")
        func constraintsRefuse() async throws {
            try await withTemporaryDatabase { databaseURL in
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
                let person = UUID(), venue = UUID(), first = UUID(), second = UUID()
                try await postgres.execute("INSERT INTO stakeholders (id, name, role, timezone) VALUES (\(person), 'p', 'resident', 'UTC')")
                try await postgres.execute("INSERT INTO venues (id, name, capacity, timezone) VALUES (\(venue), 'v', 10, 'UTC')")
                for meeting in [first, second] {
                    try await postgres.execute("""
                        INSERT INTO meetings (id, request_id, type, title, area, timezone, duration_minutes) VALUES (\(meeting), \(UUID()), 'workshop', 't', 'a', 'UTC', 60)
                        """)
                }
                let start = Date(timeIntervalSince1970: 1_760_000_400)
                func occurrence(_ meeting: UUID, _ offset: TimeInterval) async throws {
                    let from = start.addingTimeInterval(offset), to = start.addingTimeInterval(offset + 3600)
                    try await postgres.execute("""
                        INSERT INTO meeting_occurrences (meeting_id, occurrence_start, occurrence_end, venue_id, venue_span, status)
                        VALUES (\(meeting), \(from), \(to), \(venue), tstzrange(\(from), \(to)), 'scheduled')
                        """)
                }
                try await occurrence(first, 0)
                await #expect(throws: PostgresError.self) { try await occurrence(second, 1800) }
                try await occurrence(second, 3600)
                try await postgres.execute("""
                    INSERT INTO attendee_bookings (meeting_id, occurrence_start, stakeholder_id, span) VALUES (\(first), \(start), \(person), tstzrange(\(start), \(start.addingTimeInterval(3600))))
                    """)
                do {
                    try await postgres.execute("""
                        INSERT INTO attendee_bookings (meeting_id, occurrence_start, stakeholder_id, span)
                        VALUES (\(second), \(start.addingTimeInterval(3600)), \(person), tstzrange(\(start.addingTimeInterval(1800)), \(start.addingTimeInterval(7200))))
                        """)
                    Issue.record("an overlapping booking was accepted")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "23P01")
                }
            }
        }
    }
}
