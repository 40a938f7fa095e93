import Foundation
import Mail

/// Email notifications over SMTP: the alerts as plain text and HTML. The Message-ID is the
/// notification id, the same on every attempt.
public struct EmailSender: Sendable {
    let client: SMTPClient
    let from: String

    public init(settings: SMTPClient.Settings, from: String) {
        self.client = SMTPClient(settings: settings)
        self.from = from
    }

    public func send(_ notification: DeliveryStore.Claimed, to address: String) async -> TransportAnswer {
        let rendering = AlertRendering(payloads: notification.payloads)
        let message = MailMessage(
            from: from, to: [address], subject: rendering.subject, text: rendering.text, html: rendering.html,
            attachments: rendering.attachments.map { MailMessage.Attachment(filename: $0.filename, contentType: $0.contentType, data: $0.data) },
            messageID: "\(notification.id.uuidString.lowercased())@coalition")
        switch await client.send(message, envelopeFrom: from) {
        case .sent(let code): return .delivered(status: code)
        case .rejected(let code, let message): return .rejected(status: code, error: message)
        case .failed(let code, let message): return .failed(status: code, retryAfter: nil, error: "SMTP: \(message)")
        }
    }
}
