import Foundation

/// Sends mail over SMTP (libcurl underneath: STARTTLS, AUTH, timeouts). Each send runs on a
/// dispatch thread, never on Swift's cooperative pool, because libcurl's easy interface blocks.
public struct SMTPClient: Sendable {
    public enum Security: String, Sendable {
        /// No TLS (a local relay).
        case none
        /// STARTTLS when the server offers it.
        case optional
        /// STARTTLS or fail (the default).
        case required
    }

    public struct Settings: Sendable, Equatable {
        /// `smtp://host:port` (STARTTLS per `security`) or `smtps://host:port` (TLS from the start).
        public var url: String
        public var security: Security
        public var username: String?
        public var password: String?
        public var timeout: Duration

        public init(url: String, security: Security = .required, username: String? = nil, password: String? = nil, timeout: Duration = .seconds(30)) {
            self.url = url
            self.security = security
            self.username = username
            self.password = password
            self.timeout = timeout
        }
    }

    public enum Outcome: Sendable, Equatable {
        case sent(code: Int)
        /// The server refused for good (5xx): trying again will not help.
        case rejected(code: Int, message: String)
        /// A temporary failure (4xx, network, TLS): worth another try.
        case failed(code: Int?, message: String)
    }

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Sends `message` (envelope sender = `envelopeFrom`, recipients = `message.to`).
    public func send(_ message: MailMessage, envelopeFrom: String) async -> Outcome {
        let settings = settings
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: CurlSMTPTransfer.perform(
                    settings: settings, from: envelopeFrom, recipients: message.to, body: message.rendered()))
            }
        }
    }
}
