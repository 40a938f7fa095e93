import Contracts
import Foundation

/// One OASIS CAP 1.2 alert message about an incident revision (docs.oasis-open.org/emergency/cap/v1.2).
///
/// The first message about an incident is an `Alert`; later revisions are `Update`s, and the
/// revision that closes it (or makes it no longer public) is a `Cancel`, each `references` the
/// message before it. Only public, non-sensitive incidents of severity ≥ 3 get messages.
public struct CAPMessage: Sendable, Equatable {
    public enum MessageType: String, Sendable {
        case alert = "Alert"
        case update = "Update"
        case cancel = "Cancel"
    }

    public var identifier: String
    public var sender: String
    public var sent: Date
    public var msgType: MessageType
    /// `sender,identifier,sent` of the previous message, for Update and Cancel.
    public var references: String?
    public var incident: CanonicalIncident

    public static func isPublishable(_ incident: CanonicalIncident) -> Bool {
        !incident.sensitive && incident.severity >= 3
    }

    public static func identifier(incident: UUID, revision: Int) -> String {
        "coalition-\(incident.uuidString.lowercased())-\(revision)"
    }

    /// CAP's dateTime: seconds precision, an explicit offset, and UTC written `-00:00` (no `Z`).
    public static func capTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date) + "-00:00"
    }

    /// CAP's category for a taxonomy category.
    static func category(_ category: IncidentCategory) -> String {
        switch category {
        case .arson: "Fire"
        case .traffic: "Transport"
        case .publicHealth, .mentalHealthCrisis: "Health"
        case .missingPerson: "Rescue"
        case .noise, .disorder, .animal, .other: "Safety"
        default: "Security"
        }
    }

    static func severity(_ value: Int) -> String {
        switch value {
        case 5: "Extreme"
        case 4: "Severe"
        case 3: "Moderate"
        case 1, 2: "Minor"
        default: "Unknown"
        }
    }

    public var xml: String {
        let label = incident.category.rawValue.replacingOccurrences(of: "_", with: " ").capitalized
        let urgency = msgType == .cancel ? "Past" : (incident.severity >= 4 ? "Immediate" : "Expected")
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">"#,
            "  <identifier>\(Self.escape(identifier))</identifier>",
            "  <sender>\(Self.escape(sender))</sender>",
            "  <sent>\(Self.capTime(sent))</sent>",
            "  <status>Actual</status>",
            "  <msgType>\(msgType.rawValue)</msgType>",
            "  <scope>Public</scope>",
        ]
        if let references { lines.append("  <references>\(Self.escape(references))</references>") }
        lines += [
            "  <info>",
            "    <language>en</language>",
            "    <category>\(Self.category(incident.category))</category>",
            "    <event>\(Self.escape(label))</event>",
            "    <urgency>\(urgency)</urgency>",
            "    <severity>\(Self.severity(incident.severity))</severity>",
            "    <certainty>Observed</certainty>",
            "    <senderName>Coalition</senderName>",
            "    <headline>\(Self.escape("\(msgType == .cancel ? "Ended: " : "")\(label) in \(incident.areaId)"))</headline>",
        ]
        if let description = incident.description, !description.isEmpty {
            lines.append("    <description>\(Self.escape(description))</description>")
        }
        lines += ["    <area>", "      <areaDesc>\(Self.escape(incident.areaId))</areaDesc>"]
        if let point = incident.location?.coordinate {
            lines.append("      <circle>\(String(format: "%.6f,%.6f 0.2", point.lat, point.lon))</circle>")
        }
        lines += ["    </area>", "  </info>", "</alert>", ""]
        return lines.joined(separator: "\n")
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            // Characters XML 1.0 cannot carry at all become spaces.
            case _ where scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r": escaped += " "
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
