import Foundation

/// RFC 5545 text: CRLF line ends, lines folded at 75 octets, TEXT values escaped, local times
/// with a TZID whose VTIMEZONE is in the same object.
public enum ICSWriter {
    public enum Method: String, Sendable { case request = "REQUEST", cancel = "CANCEL", publish = "PUBLISH" }

    static let organizer = "mailto:meetings@coalition.invalid"

    /// A calendar object with `events` (an invitation carries one; a feed many).
    public static func calendar(_ events: [CalendarEvent], method: Method?, name: String? = nil) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Coalition//meeting-scheduler//EN", "CALSCALE:GREGORIAN"]
        if let method { lines.append("METHOD:\(method.rawValue)") }
        if let name { lines.append("X-WR-CALNAME:" + escape(name)) }
        var zones: [String: (TimeZone, Date, Date)] = [:]
        for event in events {
            let last = event.rrule == nil ? event.end : max(event.end, event.exceptions.max() ?? event.end).addingTimeInterval(400 * 86_400)
            let known = zones[event.timeZone.identifier]
            zones[event.timeZone.identifier] = (event.timeZone, min(known?.1 ?? event.start, event.start), max(known?.2 ?? last, last))
        }
        for key in zones.keys.sorted() {
            let (zone, from, to) = zones[key]!
            lines += VTimeZone.lines(for: zone, from: from, to: to)
        }
        for event in events { lines += eventLines(event, method: method) }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    static func eventLines(_ event: CalendarEvent, method: Method?) -> [String] {
        let zone = event.timeZone.identifier
        var lines = [
            "BEGIN:VEVENT",
            "UID:\(event.uid)",
            "DTSTAMP:\(utc(event.updatedAt))",
            "LAST-MODIFIED:\(utc(event.updatedAt))",
            "SEQUENCE:\(event.sequence)",
            "DTSTART;TZID=\(zone):\(local(event.start, event.timeZone))",
            "DTEND;TZID=\(zone):\(local(event.end, event.timeZone))",
            "SUMMARY:" + escape(event.summary),
            "DESCRIPTION:" + escape(event.description),
            "STATUS:" + (event.cancelled || method == .cancel ? "CANCELLED" : "CONFIRMED"),
            "ORGANIZER;CN=Coalition meeting scheduler:\(organizer)",
        ]
        if let location = event.location { lines.append("LOCATION:" + escape(location)) }
        if let rrule = event.rrule { lines.append("RRULE:\(rrule)") }
        for exception in event.exceptions.sorted() {
            lines.append("EXDATE;TZID=\(zone):\(local(exception, event.timeZone))")
        }
        for attendee in event.attendees {
            let role = attendee.required ? "REQ-PARTICIPANT" : "OPT-PARTICIPANT"
            let status = (attendee.response.map { ["accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE"][$0] ?? "NEEDS-ACTION" }) ?? "NEEDS-ACTION"
            lines.append("ATTENDEE;CN=\(parameter(attendee.name));ROLE=\(role);PARTSTAT=\(status):urn:uuid:\(attendee.stakeholderID.uuidString.lowercased())")
        }
        lines.append("END:VEVENT")
        return lines
    }

    static func stamp(_ date: Date, _ zone: TimeZone, _ format: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = zone
        formatter.dateFormat = format
        return formatter.string(from: date)
    }

    static func utc(_ date: Date) -> String { stamp(date, TimeZone(identifier: "UTC")!, "yyyyMMdd'T'HHmmss'Z'") }
    static func local(_ date: Date, _ zone: TimeZone) -> String { stamp(date, zone, "yyyyMMdd'T'HHmmss") }

    /// TEXT escaping (RFC 5545 §3.3.11).
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\\\"
            case ";": result += "\\;"
            case ",": result += "\\,"
            case "\n": result += "\\n"
            case "\r": continue
            default: result.append(character)
            }
        }
        return result
    }

    /// A parameter value: quoted, without the characters a quoted value cannot hold.
    static func parameter(_ text: String) -> String {
        "\"" + text.filter { $0 != "\"" && $0 != "\r" && $0 != "\n" } + "\""
    }

    /// Folds a content line into 75-octet pieces without splitting a UTF-8 sequence.
    static func fold(_ line: String) -> String {
        var pieces: [String] = []
        var current = ""
        var octets = 0
        for character in line {
            let size = String(character).utf8.count
            if octets + size > (pieces.isEmpty ? 75 : 74) {
                pieces.append(current)
                current = ""
                octets = 0
            }
            current.append(character)
            octets += size
        }
        pieces.append(current)
        return pieces.joined(separator: "\r\n ")
    }
}
