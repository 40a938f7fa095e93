import Foundation
import ServiceKit

extension SchedulingDirectory {
    /// A venue from its JSON form (HTTP body or CLI options), validated.
    public static func venue(_ json: Any) throws -> Venue { try VenueInput.parse(json) }
}

/// Validation of venue and availability bodies.
enum VenueInput {
    static func parse(_ json: Any) throws -> SchedulingDirectory.Venue {
        guard let body = json as? [String: Any] else { throw SchedulerRoutes.invalid("", "not_an_object", "the body must be a JSON object") }
        var errors: [ProblemDetails.FieldError] = []
        let name = (body["name"] as? String)?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty || name.count > 200 || name.contains("\u{0}") { errors.append(.init(field: "name", code: "invalid_name", message: "name must be 1 to 200 characters")) }
        let capacity = MeetingRequest.integer(body["capacity"])
        if capacity == nil || capacity! < 1 { errors.append(.init(field: "capacity", code: "invalid_capacity", message: "capacity must be a whole number of at least 1")) }
        let area = body["area"] as? String
        if let area, area.isEmpty || area.count > 100 || area.contains("\u{0}") {
            errors.append(.init(field: "area", code: "invalid_area", message: "area must be 1 to 100 characters"))
        }
        let zone = body["timezone"] as? String ?? "UTC"
        if TimeZone(identifier: zone) == nil { errors.append(.init(field: "timezone", code: "invalid_timezone", message: "timezone must be an IANA time zone")) }
        let opens = minute(body["opens_at"] ?? "00:00")
        let closes = minute(body["closes_at"] ?? "24:00")
        if opens == nil || closes == nil || opens! >= closes! {
            errors.append(.init(field: "opens_at", code: "invalid_hours", message: "opens_at and closes_at are HH:MM, opening before closing"))
        }
        guard errors.isEmpty else { throw ProblemDetails(status: .unprocessableContent, title: "Invalid venue", errors: errors) }
        return SchedulingDirectory.Venue(
            id: UUID(), name: name, area: area, capacity: capacity!, accessible: body["accessible"] as? Bool ?? false, timezone: zone,
            opensAt: body["opens_at"] as? String ?? "00:00", closesAt: body["closes_at"] as? String ?? "24:00")
    }

    static let weekdays = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    /// `{"windows":[{"weekday":"TU","start":"18:00","end":"21:00"}]}` (weekday also 1–7).
    static func windows(_ json: Any) throws -> [WeeklyAvailability.Window] {
        guard let list = (json as? [String: Any])?["windows"] as? [Any] else {
            throw SchedulerRoutes.invalid("windows", "invalid_windows", "windows must be a list")
        }
        var windows: [WeeklyAvailability.Window] = []
        for (index, item) in list.enumerated() {
            let object = item as? [String: Any] ?? [:]
            let weekday = MeetingRequest.integer(object["weekday"]) ?? (object["weekday"] as? String).flatMap { weekdays.firstIndex(of: $0.uppercased()).map { $0 + 1 } }
            guard let weekday, (1...7).contains(weekday), let start = minute(object["start"]), let end = minute(object["end"]), start < end else {
                throw SchedulerRoutes.invalid("windows[\(index)]", "invalid_window", "each window has weekday (MO…SU or 1–7), start and end (HH:MM), start before end")
            }
            windows.append(.init(weekday: weekday, startMinute: start, endMinute: end))
        }
        return windows
    }

    static func minute(_ value: Any?) -> Int? {
        guard let text = value as? String else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...24).contains(hour), (0..<60).contains(minute),
              hour * 60 + minute <= 1440 else { return nil }
        return hour * 60 + minute
    }
}
