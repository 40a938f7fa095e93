import Foundation

/// SMS through an HTTP gateway speaking Twilio's Messages API:
/// `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form fields `To`, `From`, `Body`,
/// HTTP Basic auth with the account SID and token. Messages are at most 320 characters.
public struct SMSSender: Sendable {
    public struct Settings: Sendable, Equatable {
        public var baseURL: String
        public var accountSID: String
        public var authToken: String
        public var from: String
        public var timeout: Duration

        public init(baseURL: String, accountSID: String, authToken: String, from: String, timeout: Duration = .seconds(10)) {
            self.baseURL = baseURL
            self.accountSID = accountSID
            self.authToken = authToken
            self.from = from
            self.timeout = timeout
        }
    }

    let settings: Settings
    let transport: HTTPTransport

    public init(settings: Settings) {
        self.settings = settings
        self.transport = HTTPTransport(timeout: settings.timeout)
    }

    public func send(_ notification: DeliveryStore.Claimed, to number: String) async -> TransportAnswer {
        let base = settings.baseURL.hasSuffix("/") ? String(settings.baseURL.dropLast()) : settings.baseURL
        let url = "\(base)/2010-04-01/Accounts/\(settings.accountSID)/Messages.json"
        guard URL(string: url)?.host != nil else { return .rejected(status: nil, error: "the SMS gateway URL is not valid") }
        let headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", "Basic " + Data("\(settings.accountSID):\(settings.authToken)".utf8).base64EncodedString()),
        ]
        let body = AlertRendering(payloads: notification.payloads).sms(limit: 320)
        do {
            let reply = try await transport.post(url, headers: headers, body: Array(Self.form([("To", number), ("From", settings.from), ("Body", body)]).utf8))
            let detail = String(decoding: reply.body.prefix(300), as: UTF8.self)
            switch reply.status {
            case 200..<300: return .delivered(status: reply.status)
            case 429, 500..<600:
                let retryAfter = WebhookSender.retryAfter(reply.headers["retry-after"], now: Date())
                return .failed(status: reply.status, retryAfter: retryAfter, error: "SMS gateway answered \(reply.status): \(detail)")
            default:
                // 400 (a bad number), 401/403 (credentials), 404: the same request will not succeed later.
                return .rejected(status: reply.status, error: "SMS gateway answered \(reply.status): \(detail)")
            }
        } catch {
            return .failed(status: nil, retryAfter: nil, error: "SMS gateway request failed: \(error)")
        }
    }

    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
    }
}
