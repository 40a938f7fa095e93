import Contracts
import Foundation

/// Turns a notification's alerts into words: an email subject, plain text and HTML, and an
/// SMS of at most 320 characters. Generalised alerts (sensitive incidents outside the
/// law-enforcement scope) carry no description or place below the area, so none is shown.
public struct AlertRendering: Sendable {
    public let alerts: [AlertPayload]
    /// Requests from other services (`alerts.requested`), e.g. meeting invitations.
    public let requests: [RequestedAlertPayload]

    public init(payloads: [[UInt8]]) {
        var alerts: [AlertPayload] = []
        var requests: [RequestedAlertPayload] = []
        for payload in payloads {
            if let request = try? CoalitionJSON.decoder.decode(RequestedAlertPayload.self, from: Data(payload)), request.type == "coalition.alert.requested.v1" {
                requests.append(request)
            } else if let alert = try? CoalitionJSON.decoder.decode(AlertPayload.self, from: Data(payload)) {
                alerts.append(alert)
            }
        }
        self.alerts = alerts
        self.requests = requests
    }

    /// The requests' attachments (an invitation's `.ics`), for email.
    public var attachments: [(filename: String, contentType: String, data: [UInt8])] {
        requests.flatMap { request in
            (request.attachments ?? []).compactMap { attachment in
                Data(base64Encoded: attachment.contentBase64).map { (attachment.filename, attachment.contentType, Array($0)) }
            }
        }
    }

    var count: Int { alerts.count + requests.count }

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
        if let request = requests.first, count == 1 { return "[Coalition] \(request.subject)" }
        guard let first = alerts.first else { return requests.first.map { "[Coalition] \(count) messages, starting with \($0.subject)" } ?? "[Coalition] alert" }
        return count == 1 ? "[Coalition] \(Self.headline(first))" : "[Coalition] \(count) alerts, starting with \(Self.headline(first))"
    }

    static func time(_ date: Date) -> String { RFC3339.string(from: date) }

    public var text: String {
        var lines = ["Coalition alert" + (count == 1 ? "" : "s (\(count))"), ""]
        for request in requests {
            lines += [request.subject, "", request.body, ""]
        }
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
        var html = "<!DOCTYPE html><html><body><h1>Coalition alert\(count == 1 ? "" : "s (\(count))")</h1>"
        for request in requests {
            html += "<h2>\(Self.escape(request.subject))</h2><p>\(Self.escape(request.body).replacingOccurrences(of: "\n", with: "<br>"))</p>"
        }
        html += "<ul>"
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
        var text: String
        if let request = requests.first {
            text = "Coalition: \(request.subject) — \(request.body)"
        } else if let first = alerts.first {
            text = "Coalition: \(Self.headline(first))"
            if let description = first.incident.description { text += " — \(description)" }
        } else {
            return "Coalition alert"
        }
        let more = count > 1 ? " (+\(count - 1) more)" : ""
        if text.count + more.count > limit { text = String(text.prefix(limit - more.count - 1)) + "…" }
        return text + more
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
