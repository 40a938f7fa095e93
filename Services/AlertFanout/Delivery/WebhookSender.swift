import Foundation

/// POSTs a notification to a webhook, signed per Standard Webhooks, and classifies the answer.
public struct WebhookSender: Sendable {
    let timeout: Duration
    let guardian: TargetGuard
    let transport: HTTPTransport

    public init(timeout: Duration, guardian: TargetGuard) {
        self.timeout = timeout
        self.guardian = guardian
        self.transport = HTTPTransport(timeout: timeout)
    }

    public func send(to address: String, id: String, body: [UInt8], secrets: [String], now: Date = Date()) async -> TransportAnswer {
        guard let url = URL(string: address), let host = url.host else { return .refused("\(address) is not a URL") }
        switch await guardian.check(host: host) {
        case .allowed: break
        case .refused(let why): return .refused(why)
        case .unresolved(let why): return .failed(status: nil, retryAfter: nil, error: why)
        }
        let timestamp = Int(now.timeIntervalSince1970)
        let headers = [
            ("Content-Type", "application/json"),
            ("User-Agent", "Coalition-Alert-Fanout/1"),
            ("webhook-id", id),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secrets: secrets)),
        ]
        do {
            let reply = try await transport.post(address, headers: headers, body: body)
            switch reply.status {
            case 200..<300: return .delivered(status: reply.status)
            case 410: return .gone(status: reply.status)
            default:
                let retryAfter = (reply.status == 429 || reply.status == 503) ? Self.retryAfter(reply.headers["retry-after"], now: now) : nil
                return .failed(status: reply.status, retryAfter: retryAfter, error: "receiver answered \(reply.status)")
            }
        } catch {
            return .failed(status: nil, retryAfter: nil, error: "request failed: \(error)")
        }
    }

    /// `Retry-After` as delay-seconds or an HTTP date.
    static func retryAfter(_ value: String?, now: Date) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSince(now)) }
    }
}
