import Contracts
import Foundation

/// Turns a notification's alerts into words: an email subject, plain text and HTML, and an
/// SMS of at most 320 characters. Generalised alerts (sensitive incidents outside the
/// law-enforcement scope) carry no description or place below the area, so none is shown.
public struct AlertRendering: Sendable {
    public let alerts: [AlertPayload]

    public init(payloads: [[UInt8]]) {
        alerts = payloads.compactMap { try? CoalitionJSON.decoder.decode(AlertPayload.self, from: Data($0)) }
    }

    static func label(_ category: IncidentCategory) -> String {
        category.rawValue.replacingOccurrences(of: "_", with: " ").capitalized
    }

    static func headline(_ alert: AlertPayload) -> String {
        let incident = alert.incident
        let what = label(incident.category)
        switch alert.reason {
        case "closure": return "Closed: \(what) in \(incident.areaId)"
        case let reason where reason.hasPrefix("escalation"): return "Escalated to severity \(incident.severity): \(what) in \(incident.areaId)"
        default: return "\(what) in \(incident.areaId) (severity \(incident.severity))"
        }
    }

    public var subject: String {
        guard let first = alerts.first else { return "[Coalition] alert" }
        return alerts.count == 1 ? "[Coalition] \(Self.headline(first))" : "[Coalition] \(alerts.count) alerts, starting with \(Self.headline(first))"
    }

    static func time(_ date: Date) -> String { RFC3339.string(from: date) }

    public var text: String {
        var lines = ["Coalition alert" + (alerts.count == 1 ? "" : "s (\(alerts.count))"), ""]
        for alert in alerts {
            let incident = alert.incident
            lines.append("• \(Self.headline(alert))")
            lines.append("  occurred \(Self.time(incident.occurredAt)), incident \(incident.id.uuidString.lowercased()) revision \(incident.revision)")
            if let description = incident.description { lines.append("  \(description)") }
            if let location = incident.location {
                if let address = location.address { lines.append("  at \(address)") }
                if let lat = location.lat, let lon = location.lon { lines.append("  position \(lat), \(lon)") }
            }
            if alert.generalized { lines.append("  (details withheld: sensitive incident)") }
            lines.append("")
        }
        lines.append("You receive this because of your Coalition subscriptions.")
        return lines.joined(separator: "\n")
    }

    public var html: String {
        var html = "<!DOCTYPE html><html><body><h1>Coalition alert\(alerts.count == 1 ? "" : "s (\(alerts.count))")</h1><ul>"
        for alert in alerts {
            let incident = alert.incident
            html += "<li><strong>\(Self.escape(Self.headline(alert)))</strong><br>occurred \(Self.time(incident.occurredAt))"
            if let description = incident.description { html += "<br>\(Self.escape(description))" }
            if let address = incident.location?.address { html += "<br>at \(Self.escape(address))" }
            if alert.generalized { html += "<br><em>details withheld: sensitive incident</em>" }
            html += "</li>"
        }
        return html + "</ul><p>You receive this because of your Coalition subscriptions.</p></body></html>"
    }

    /// At most `limit` characters: the first alert's headline, then how many more.
    public func sms(limit: Int = 320) -> String {
        guard let first = alerts.first else { return "Coalition alert" }
        var text = "Coalition: \(Self.headline(first))"
        if let description = first.incident.description { text += " — \(description)" }
        let more = alerts.count > 1 ? " (+\(alerts.count - 1) more)" : ""
        if text.count + more.count > limit { text = String(text.prefix(limit - more.count - 1)) + "…" }
        return text + more
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
