import Contracts
import Foundation
import ServiceKit

/// A validated `POST /v1/meetings/requests` body (docs/openapi/meeting-scheduler.yaml).
public struct MeetingRequest: Sendable {
    public enum InviteeSelector: Sendable, Equatable {
        case stakeholder(UUID)
        /// Every stakeholder of `role` with a subscription naming `area`.
        case subscribers(role: StakeholderRole, area: String)
    }

    public struct InviteeSpec: Sendable, Equatable {
        public var selector: InviteeSelector
        public var required: Bool

        public init(selector: InviteeSelector, required: Bool) {
            self.selector = selector
            self.required = required
        }
    }

    public var requestID: UUID
    public var type: MeetingEvent.MeetingType
    public var title: String
    public var area: String
    public var durationMinutes: Int
    public var window: Range<Date>
    public var timeZone: TimeZone
    public var invitees: [InviteeSpec]
    public var representation: [StakeholderRole: Int]
    public var venueNeeds: SchedulingProblem.VenueNeeds?
    public var bufferMinutes: Int
    public var rrule: RecurrenceRule?
    public var hotspotEpisodeID: UUID?

    public init(
        requestID: UUID = UUID(), type: MeetingEvent.MeetingType, title: String, area: String, durationMinutes: Int, window: Range<Date>,
        timeZone: TimeZone, invitees: [InviteeSpec], representation: [StakeholderRole: Int], venueNeeds: SchedulingProblem.VenueNeeds? = nil,
        bufferMinutes: Int = 0, rrule: RecurrenceRule? = nil, hotspotEpisodeID: UUID? = nil
    ) {
        self.requestID = requestID
        self.type = type
        self.title = title
        self.area = area
        self.durationMinutes = durationMinutes
        self.window = window
        self.timeZone = timeZone
        self.invitees = invitees
        self.representation = representation
        self.venueNeeds = venueNeeds
        self.bufferMinutes = bufferMinutes
        self.rrule = rrule
        self.hotspotEpisodeID = hotspotEpisodeID
    }

    /// The longest window a request may search.
    public static let maximumWindowDays = 92
    public static let maximumInvitees = 2_000

    /// Reads a decoded JSON body; every problem found is reported, not just the first.
    public static func parse(_ json: Any) -> Result<MeetingRequest, MeetingRequestErrors> {
        var errors: [ProblemDetails.FieldError] = []
        func fail(_ field: String, _ code: String, _ message: String) { errors.append(.init(field: field, code: code, message: message)) }
        guard let body = json as? [String: Any] else {
            return .failure(MeetingRequestErrors(errors: [.init(field: "", code: "not_an_object", message: "the body must be a JSON object")]))
        }
        let known: Set = ["request_id", "type", "title", "area", "duration_minutes", "window", "timezone", "invitees", "representation", "venue",
                          "buffer_minutes", "rrule"]
        for key in body.keys.sorted() where !known.contains(key) { fail(key, "unknown_field", "\(key) is not a field of a meeting request") }

        var requestID = UUID()
        if let value = body["request_id"] {
            if let text = value as? String, let id = UUID(uuidString: text) { requestID = id } else { fail("request_id", "invalid_uuid", "request_id must be a UUID") }
        }
        var type = MeetingEvent.MeetingType.coalition
        if let text = body["type"] as? String, let value = MeetingEvent.MeetingType(rawValue: text) {
            type = value
        } else {
            fail("type", "invalid_type", "type must be one of " + MeetingEvent.MeetingType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let title = (body["title"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if title.isEmpty || title.count > 200 || title.contains("\u{0}") { fail("title", "invalid_title", "title must be 1 to 200 characters") }
        let area = (body["area"] as? String)?.trimmingCharacters(in: .whitespaces) ?? ""
        if area.isEmpty || area.count > 100 || area.contains("\u{0}") { fail("area", "invalid_area", "area must be 1 to 100 characters") }
        let duration = integer(body["duration_minutes"])
        if duration == nil || !(5...1440).contains(duration!) { fail("duration_minutes", "invalid_duration", "duration_minutes must be a whole number from 5 to 1440") }
        var timeZone = TimeZone(identifier: "UTC")!
        if let text = body["timezone"] as? String, let zone = TimeZone(identifier: text), text.contains("/") || text == "UTC" {
            timeZone = zone
        } else {
            fail("timezone", "invalid_timezone", "timezone must be an IANA time zone such as America/New_York")
        }
        var window: Range<Date>?
        if let object = body["window"] as? [String: Any] {
            let start = (object["start"] as? String).flatMap(time)
            let end = (object["end"] as? String).flatMap(time)
            if start == nil { fail("window.start", "invalid_time", "window.start must be an RFC 3339 time with offset") }
            if end == nil { fail("window.end", "invalid_time", "window.end must be an RFC 3339 time with offset") }
            if let start, let end {
                if end <= start {
                    fail("window", "empty_window", "window.end must be after window.start")
                } else if end.timeIntervalSince(start) > Double(maximumWindowDays) * 86_400 {
                    fail("window", "window_too_long", "the window may span at most \(maximumWindowDays) days")
                } else if let duration, end.timeIntervalSince(start) < Double(duration * 60) {
                    fail("window", "window_too_short", "the window (\(Int(end.timeIntervalSince(start) / 60)) minutes) is shorter than the meeting (\(duration) minutes)")
                } else {
                    window = start..<end
                }
            }
        } else {
            fail("window", "missing_window", "window must be an object with start and end")
        }
        var invitees: [InviteeSpec] = []
        if let list = body["invitees"] as? [Any], !list.isEmpty, list.count <= maximumInvitees {
            for (index, item) in list.enumerated() {
                let field = "invitees[\(index)]"
                guard let object = item as? [String: Any] else { fail(field, "invalid_invitee", "each invitee must be an object"); continue }
                let required = object["required"] as? Bool ?? true
                if let text = object["stakeholder_id"] as? String {
                    guard let id = UUID(uuidString: text) else { fail("\(field).stakeholder_id", "invalid_uuid", "stakeholder_id must be a UUID"); continue }
                    invitees.append(InviteeSpec(selector: .stakeholder(id), required: required))
                } else if let roleText = object["role"] as? String {
                    guard let role = StakeholderRole(rawValue: roleText) else { fail("\(field).role", "invalid_role", "\(roleText) is not a stakeholder role"); continue }
                    guard let area = object["area"] as? String, !area.isEmpty, area.count <= 100, !area.contains("\u{0}") else {
                        fail("\(field).area", "missing_area", "an invitee given by role needs the area its members subscribe to"); continue
                    }
                    invitees.append(InviteeSpec(selector: .subscribers(role: role, area: area), required: required))
                } else {
                    fail(field, "invalid_invitee", "an invitee has a stakeholder_id, or a role and an area")
                }
            }
        } else {
            fail("invitees", "invalid_invitees", "invitees must be a list of 1 to \(maximumInvitees) invitees")
        }
        var representation: [StakeholderRole: Int] = [:]
        if let object = body["representation"] {
            if let object = object as? [String: Any] {
                for (key, value) in object {
                    guard let role = StakeholderRole(rawValue: key) else { fail("representation.\(key)", "invalid_role", "\(key) is not a stakeholder role"); continue }
                    guard let count = integer(value), (0...100).contains(count) else {
                        fail("representation.\(key)", "invalid_count", "the minimum count must be a whole number from 0 to 100"); continue
                    }
                    representation[role] = count
                }
            } else {
                fail("representation", "invalid_representation", "representation must map roles to minimum counts")
            }
        }
        var venueNeeds: SchedulingProblem.VenueNeeds?
        if let value = body["venue"], !(value is NSNull) {
            if let object = value as? [String: Any] {
                let capacity = object["min_capacity"].map { integer($0) } ?? 1
                if capacity == nil || capacity! < 1 { fail("venue.min_capacity", "invalid_capacity", "min_capacity must be a whole number of at least 1") }
                venueNeeds = .init(minimumCapacity: capacity ?? 1, accessible: object["accessible"] as? Bool ?? false)
            } else {
                fail("venue", "invalid_venue", "venue must be an object with min_capacity and accessible")
            }
        }
        var buffer = 0
        if let value = body["buffer_minutes"] {
            if let minutes = integer(value), (0...240).contains(minutes) { buffer = minutes } else {
                fail("buffer_minutes", "invalid_buffer", "buffer_minutes must be a whole number from 0 to 240")
            }
        }
        var rule: RecurrenceRule?
        if let value = body["rrule"], !(value is NSNull) {
            if let text = value as? String {
                do { rule = try RecurrenceRule(parsing: text) } catch { fail("rrule", "invalid_rrule", error.description) }
            } else {
                fail("rrule", "invalid_rrule", "rrule must be a string such as FREQ=WEEKLY;BYDAY=TU;COUNT=10")
            }
        }
        guard errors.isEmpty, let duration, let window else { return .failure(MeetingRequestErrors(errors: errors)) }
        return .success(MeetingRequest(
            requestID: requestID, type: type, title: title, area: area, durationMinutes: duration, window: window, timeZone: timeZone,
            invitees: invitees, representation: representation, venueNeeds: venueNeeds, bufferMinutes: buffer, rrule: rule))
    }

    /// An RFC 3339 time in the years a meeting can plausibly have (and PostgreSQL can store).
    static func time(_ text: String) -> Date? {
        guard let date = RFC3339.date(from: text), date.timeIntervalSince1970 >= -2_208_988_800, date.timeIntervalSince1970 < 253_402_300_800 else { return nil }
        return date
    }

    /// A JSON number with no fraction. JSON booleans also arrive as NSNumbers (and `is Bool`
    /// holds for 0 and 1), so they are told apart by their Objective-C type code.
    static func integer(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 1e9 else { return nil }
        return Int(double)
    }
}

/// Everything wrong with a request body, field by field.
public struct MeetingRequestErrors: Error, Sendable {
    public var errors: [ProblemDetails.FieldError]
}
