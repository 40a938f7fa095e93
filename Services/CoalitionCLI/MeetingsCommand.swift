import ArgumentParser
import Foundation
import Logging
import MeetingScheduler

/// `coalition meetings …` and `coalition venues …`: the scheduler's request validation,
/// solver and store straight against the database (events leave through the outbox, published
/// by any running service's relay).
struct MeetingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meetings", abstract: "Request, show and cancel coalition meetings.",
        subcommands: [Request.self, Show.self, Cancel.self, AddVenue.self])

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find the best slot and book it; prints the meeting, or why no slot works.",
            discussion: """
                Example: coalition meetings request --title "Brooklyn coalition" --area brooklyn-05 --duration 90 \\
                  --from 2025-01-13T00:00:00-05:00 --to 2025-01-18T00:00:00-05:00 --timezone America/New_York \\
                  --invite-role law_enforcement@brooklyn-05 --invite <stakeholder id> --need law_enforcement=1 --need local_government=1
                """)

        @Option(help: "coalition, joint_leadership, community_forum, workshop or emergency.") var type = "coalition"
        @Option(help: "Title.") var title: String
        @Option(help: "Area the meeting is about.") var area: String
        @Option(help: "Length in minutes.") var duration: Int
        @Option(help: "Window start (RFC 3339 with offset).") var from: String
        @Option(help: "Window end (RFC 3339 with offset).") var to: String
        @Option(help: "IANA time zone the meeting is planned in.") var timezone = "UTC"
        @Option(help: "Stakeholder id of a required invitee (repeatable).") var invite: [String] = []
        @Option(help: "Stakeholder id of an optional invitee (repeatable).") var inviteOptional: [String] = []
        @Option(help: "Every stakeholder of a role subscribed to an area, as role@area (repeatable; required).") var inviteRole: [String] = []
        @Option(help: "Representation rule, as role=minimum (repeatable).") var need: [String] = []
        @Option(help: "Venue with at least this capacity (no venue is booked without it).") var venueCapacity: Int?
        @Flag(help: "The venue must have step-free access.") var accessible = false
        @Option(help: "Minutes kept free before and after.") var buffer = 0
        @Option(help: "RFC 5545 recurrence (FREQ=WEEKLY|MONTHLY, INTERVAL, BYDAY, BYMONTHDAY, COUNT or UNTIL).") var rrule: String?

        func run() async throws {
            var object: [String: Any] = [
                "type": type, "title": title, "area": area, "duration_minutes": duration, "window": ["start": from, "end": to], "timezone": timezone,
                "buffer_minutes": buffer,
            ]
            var invitees: [[String: Any]] = invite.map { ["stakeholder_id": $0, "required": true] } + inviteOptional.map { ["stakeholder_id": $0, "required": false] }
            for item in inviteRole {
                let parts = item.split(separator: "@", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--invite-role takes role@area, not \(item)") }
                invitees.append(["role": parts[0], "area": parts[1], "required": true])
            }
            object["invitees"] = invitees
            var representation: [String: Any] = [:]
            for item in need {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let count = Int(parts[1]) else { throw ValidationError("--need takes role=minimum, not \(item)") }
                representation[parts[0]] = count
            }
            object["representation"] = representation
            if let venueCapacity { object["venue"] = ["min_capacity": venueCapacity, "accessible": accessible] }
            if let rrule { object["rrule"] = rrule }
            let request: MeetingRequest
            switch MeetingRequest.parse(object) {
            case .failure(let errors): throw CLIInputError(message: errors.errors.map { "\($0.field.isEmpty ? "input" : $0.field): \($0.message)" }.joined(separator: "\n"))
            case .success(let parsed): request = parsed
            }
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let store = MeetingStore(postgres: postgres, planner: MeetingPlanner(postgres: postgres, logger: cli.logger))
            do {
                let (record, _) = try await store.schedule(request)
                MeetingsCommand.print(record)
            } catch let error as Unschedulable {
                throw CLIInputError(message: "no slot: \(error.reason)")
            } catch let error as UnknownInvitees {
                throw CLIInputError(message: error.errors.map { "\($0.field): \($0.message)" }.joined(separator: "\n"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a meeting, its invitees and occurrences.")
        @Argument(help: "Meeting id.") var id: String

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("\(id) is not a meeting id (a UUID)") }
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let store = MeetingStore(postgres: postgres, planner: MeetingPlanner(postgres: postgres, logger: cli.logger))
            guard let record = try await store.load(uuid) else { throw CLIInputError(message: "no meeting \(id)") }
            MeetingsCommand.print(record)
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a meeting (or one occurrence); invitees get METHOD:CANCEL.")
        @Argument(help: "Meeting id.") var id: String
        @Option(help: "Only this occurrence (RFC 3339 start).") var occurrence: String?
        @Option(help: "Reason given to invitees.") var reason: String?

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("\(id) is not a meeting id (a UUID)") }
            let start = try occurrence.map { text -> Date in
                guard let date = ISO8601DateFormatter().date(from: text) else { throw ValidationError("--occurrence must be RFC 3339") }
                return date
            }
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let store = MeetingStore(postgres: postgres, planner: MeetingPlanner(postgres: postgres, logger: cli.logger))
            MeetingsCommand.print(try await store.cancel(uuid, occurrence: start, reason: reason))
        }
    }

    struct AddVenue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-venue", abstract: "Add a venue meetings can be booked into.")
        @Option(help: "Name.") var name: String
        @Option(help: "Area.") var area: String?
        @Option(help: "Capacity.") var capacity: Int
        @Flag(help: "Step-free access.") var accessible = false
        @Option(help: "IANA time zone of the opening hours.") var timezone = "UTC"
        @Option(help: "Opens (HH:MM, local).") var opens = "08:00"
        @Option(help: "Closes (HH:MM, local).") var closes = "22:00"

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let venue = try SchedulingDirectory.venue(
                ["name": name, "area": area as Any, "capacity": capacity, "accessible": accessible, "timezone": timezone, "opens_at": opens, "closes_at": closes])
            try await SchedulingDirectory(postgres: postgres).addVenue(venue)
            Swift.print("venue \(venue.id.uuidString.lowercased())\t\(venue.name)\t\(venue.capacity)")
        }
    }

    static func print(_ record: MeetingRecord) {
        let format = ISO8601DateFormatter()
        Swift.print("meeting \(record.meetingId.uuidString.lowercased())\t\(record.type.rawValue)\t\(record.status)\tsequence \(record.sequence)\t\(record.title)")
        Swift.print("start \(format.string(from: record.start))\tend \(format.string(from: record.end))\t\(record.timezone)\tvenue \(record.venueId ?? "-")")
        if let rrule = record.rrule { Swift.print("rrule \(rrule)") }
        for invitee in record.invitees {
            Swift.print("invitee \(invitee.stakeholderId.uuidString.lowercased())\t\(invitee.role.rawValue)\t\(invitee.required ? "required" : "optional")\t\(invitee.available ? "available" : "unavailable")")
        }
        for occurrence in record.occurrences {
            Swift.print("occurrence \(format.string(from: occurrence.start))\t\(occurrence.status)\(occurrence.reason.map { "\t\($0)" } ?? "")")
        }
    }
}
