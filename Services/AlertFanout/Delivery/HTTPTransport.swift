import Foundation
import NIOConcurrencyHelpers
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP client of the webhook and SMS senders: Foundation's URLSession (libcurl
/// underneath, so HTTPS needs no TLS stack of ours), driven through delegate callbacks so two
/// behaviours a notifier needs hold on Linux too:
///
/// - redirects are not followed (a target's address is checked before sending; a redirect
///   would bypass that check). Completion-handler tasks on Linux follow redirects without
///   asking, so every task here is a delegate task;
/// - a 401 carrying `WWW-Authenticate` comes back as a 401. Without credentials URLSession on
///   Linux otherwise waits forever (swift-corelibs-foundation issue 5456), so the challenge is
///   cancelled and the 401 reported from what the delegate saw.
final class HTTPTransport: NSObject, URLSessionDataDelegate, Sendable {
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
    }

    private struct InFlight {
        var continuation: CheckedContinuation<Reply, any Error>
        var response: HTTPURLResponse?
        var body = Data()
        var challenged = false
    }

    private let tasks = NIOLockedValueBox<[Int: InFlight]>([:])
    nonisolated(unsafe) private var session: URLSession!

    init(timeout: Duration) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = RetrySchedule.seconds(timeout)
        configuration.timeoutIntervalForResource = RetrySchedule.seconds(timeout)
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.httpCookieStorage = nil
        configuration.urlCredentialStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func send(_ request: URLRequest) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let task = session.dataTask(with: request)
            tasks.withLockedValue { $0[task.taskIdentifier] = InFlight(continuation: continuation) }
            task.resume()
        }
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        tasks.withLockedValue { $0[dataTask.taskIdentifier]?.response = response as? HTTPURLResponse }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        tasks.withLockedValue { $0[dataTask.taskIdentifier]?.body.append(data) }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        tasks.withLockedValue { $0[task.taskIdentifier]?.challenged = true }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let done = tasks.withLockedValue({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        if done.challenged {
            done.continuation.resume(returning: Reply(status: 401, headers: [:], body: done.body))
            return
        }
        let response = done.response ?? (task.response as? HTTPURLResponse)
        if let error, response == nil {
            done.continuation.resume(throwing: error)
            return
        }
        guard let response else {
            done.continuation.resume(throwing: URLError(.badServerResponse))
            return
        }
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        done.continuation.resume(returning: Reply(status: response.statusCode, headers: headers, body: done.body))
    }
}
