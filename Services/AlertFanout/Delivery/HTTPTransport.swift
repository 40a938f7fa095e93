import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP client of the webhook and SMS senders: AsyncHTTPClient on the process's NIO event
/// loops. Keep-alive connections are pooled per host (up to `connectionsPerHost` at once, as
/// many as a sending round has in flight), requests cost no thread each, and HTTPS uses the
/// system's trust store. Redirects are not followed: a target's address is checked before
/// sending, and a redirect would bypass that check, so a 3xx comes back as the answer.
struct HTTPTransport: Sendable {
    struct Reply: Sendable {
        var status: Int
        /// Header names in lower case.
        var headers: [String: String]
        /// The first `HTTPTransport.bodyLimit` bytes of the reply (the rest is read and dropped).
        var body: Data
    }

    /// Most connections kept open to one host: a sending round's notifications to one
    /// receiver go out in parallel rather than queueing behind each other.
    static let connectionsPerHost = 64
    /// Replies are only looked at for an error message: more than this is not kept.
    static let bodyLimit = 64 * 1024

    /// One client for the process's lifetime (it is never shut down, so it is never torn down
    /// with requests in flight); every request carries its own deadline.
    static let client: HTTPClient = {
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = connectionsPerHost
        pool.idleTimeout = .seconds(60)
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: nil, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), connectionPool: pool)
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    let timeout: Duration

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// POSTs `body`; the whole exchange (connect, send, answer) must finish within `timeout`.
    func post(_ url: String, headers: [(String, String)], body: [UInt8]) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = HTTPHeaders(headers)
        request.body = .bytes(ByteBuffer(bytes: body))
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let response = try await Self.client.execute(request, deadline: .now() + .nanoseconds(nanoseconds))
        var kept = Data()
        for try await chunk in response.body where kept.count < Self.bodyLimit {
            kept.append(contentsOf: chunk.readableBytesView.prefix(Self.bodyLimit - kept.count))
        }
        var replyHeaders: [String: String] = [:]
        for (name, value) in response.headers { replyHeaders[name.lowercased()] = value }
        return Reply(status: Int(response.status.code), headers: replyHeaders, body: kept)
    }
}
