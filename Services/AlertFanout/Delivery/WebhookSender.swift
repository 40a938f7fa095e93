import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs a notification to a webhook, signed per Standard Webhooks, and classifies the answer.
/// Uses Foundation's URLSession (libcurl underneath: HTTPS without building a TLS stack into
/// the service); redirects are refused, so the target guard's verdict is the final word.
public final class WebhookSender: NSObject, URLSessionTaskDelegate, Sendable {
    public enum Answer: Sendable, Equatable {
        case delivered(status: Int)
        case gone(status: Int)
        /// A failure worth retrying; `retryAfter` (seconds) when a 429/503 said when.
        case failed(status: Int?, retryAfter: Double?, error: String)
        case refused(String)
    }

    let timeout: Duration
    let guardian: TargetGuard
    nonisolated(unsafe) private var session: URLSession!

    public init(timeout: Duration, guardian: TargetGuard) {
        self.timeout = timeout
        self.guardian = guardian
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = RetrySchedule.seconds(timeout)
        configuration.timeoutIntervalForResource = RetrySchedule.seconds(timeout)
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    public func send(to address: String, id: String, body: [UInt8], secrets: [String], now: Date = Date()) async -> Answer {
        guard let url = URL(string: address), let host = url.host else { return .refused("\(address) is not a URL") }
        switch await guardian.check(host: host) {
        case .allowed: break
        case .refused(let why): return .refused(why)
        case .unresolved(let why): return .failed(status: nil, retryAfter: nil, error: why)
        }
        let timestamp = Int(now.timeIntervalSince1970)
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.timeoutInterval = RetrySchedule.seconds(timeout)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Coalition-Alert-Fanout/1", forHTTPHeaderField: "User-Agent")
        request.setValue(id, forHTTPHeaderField: "webhook-id")
        request.setValue(String(timestamp), forHTTPHeaderField: "webhook-timestamp")
        request.setValue(WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secrets: secrets), forHTTPHeaderField: "webhook-signature")
        do {
            let (_, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { return .failed(status: nil, retryAfter: nil, error: "no HTTP response") }
            let status = http.statusCode
            switch status {
            case 200..<300: return .delivered(status: status)
            case 410: return .gone(status: status)
            default:
                let retryAfter = (status == 429 || status == 503) ? Self.retryAfter(http.value(forHTTPHeaderField: "Retry-After"), now: now) : nil
                return .failed(status: status, retryAfter: retryAfter, error: "receiver answered \(status)")
            }
        } catch {
            return .failed(status: nil, retryAfter: nil, error: "request failed: \(error.localizedDescription)")
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

    public func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
