import Contracts
import Foundation
import Hummingbird
import Logging
import Metrics
import Postgres
import ServiceKit

/// `POST /v1/incidents` and `GET /v1/incidents/{id}`: the HTTP front door for upstream systems.
/// Authenticated with the source's API key (`Authorization: Bearer …`); the operator token may
/// write any source.
public struct IncidentRoutes: Sendable {
    /// Largest accepted request body (1 MiB); larger bodies get 413.
    public static let maximumBodySize = 1 << 20
    /// Largest batch in one request.
    public static let maximumBatchSize = 1000

    let store: IncidentStore
    let sources: SourceRegistry
    let postgres: PostgresClient
    let operatorToken: String?
    let rateLimiter: SourceRateLimiter

    public init(store: IncidentStore, sources: SourceRegistry, postgres: PostgresClient, operatorToken: String?, rateLimiter: SourceRateLimiter) {
        self.store = store
        self.sources = sources
        self.postgres = postgres
        self.operatorToken = operatorToken
        self.rateLimiter = rateLimiter
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/incidents") { request, context in try await submit(request, context: context) }
        router.get("/v1/incidents/{id}") { request, context in try await fetch(request, context: context) }
        router.get("/v1/incidents") { request, context in try await list(request, context: context) }
    }

    /// Who is calling: the operator (any source) or one source.
    enum Caller: Equatable {
        case operator_
        case source(String)

        func mayWrite(_ source: String) -> Bool {
            switch self {
            case .operator_: true
            case .source(let own): own == source
            }
        }
    }

    func authenticate(_ request: Request) async throws -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw ProblemDetails(status: .unauthorized, detail: "Send the source's API key as `Authorization: Bearer <key>`.",
                                 headers: [.wwwAuthenticate: "Bearer"])
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        if let operatorToken, !operatorToken.isEmpty, token == operatorToken { return .operator_ }
        guard let source = try await sources.authenticate(key: token) else {
            throw ProblemDetails(status: .unauthorized, detail: "Unknown or revoked API key.", headers: [.wwwAuthenticate: "Bearer"])
        }
        return .source(source)
    }

    func submit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        let body = try await request.body.collect(upTo: Self.maximumBodySize)
        let bytes = Array(buffer: body)
        guard let document = JSONScanner.parse(bytes, allowFragments: false) else {
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid incident", detail: "The body is not valid JSON.",
                                 errors: [.init(field: "", code: "invalid_json", message: "the body is not valid JSON")])
        }
        let isBatch: Bool
        let items: [JSONValue]
        if case .object(let object) = document, let batch = object["incidents"] {
            guard case .array(let array) = batch else {
                throw ProblemDetails(status: .unprocessableContent, title: "Invalid batch",
                                     errors: [.init(field: "incidents", code: "wrong_type", message: "incidents must be an array")])
            }
            guard array.count <= Self.maximumBatchSize else {
                throw ProblemDetails(status: .contentTooLarge, detail: "At most \(Self.maximumBatchSize) incidents per request; this one has \(array.count).")
            }
            (isBatch, items) = (true, array)
        } else {
            (isBatch, items) = (false, [document])
        }

        // Floods: each source's bucket pays one token per incident; the operator is not limited.
        if case .source(let source) = caller, let wait = rateLimiter.take(items.count, for: source) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            throw ProblemDetails(
                status: .tooManyRequests,
                detail: "Source \(source) is over its rate limit of \(rateLimiter.limitDescription) incidents; retry in \(seconds) s.",
                headers: [.retryAfter: String(seconds)])
        }
        var valid: [(index: Int, incident: RawIncident)] = []
        var rejected: [(index: Int, submission: RejectedSubmission)] = []
        for (index, item) in items.enumerated() {
            switch IncidentValidator.validate(item) {
            case .success(let incident):
                guard caller.mayWrite(incident.source) else {
                    throw ProblemDetails(status: .forbidden, detail: "This key may only write incidents of its own source, not \(incident.source).")
                }
                valid.append((index, incident))
            case .failure(let failure):
                // A batch item is kept re-encoded as before (Foundation, sorted keys); a single
                // incident exactly as received.
                let original = isBatch
                    ? (try? JSONSerialization.data(withJSONObject: item.foundationObject, options: [.fragmentsAllowed, .sortedKeys])).map(Array.init) ?? []
                    : bytes
                rejected.append((index, RejectedSubmission(
                    source: item["source"]?.stringValue, externalId: item["external_id"]?.stringValue,
                    original: original, errors: failure.errors, channel: "http")))
            }
        }
        let stored = try await store.ingest(valid.map(\.incident), rejected: rejected.map(\.submission))
        IntakeOutcome.count(stored, rejected: rejected.count, channel: "http")

        if !isBatch, let refused = stored.first, refused.status == .rejected {
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid incident",
                                 detail: "The incident was not accepted; it is kept on incidents.rejected with these reasons.",
                                 errors: refused.errors)
        }
        if !isBatch, let only = rejected.first {
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid incident",
                                 detail: "The incident was not accepted; it is kept on incidents.rejected with these reasons.",
                                 errors: only.submission.errors)
        }
        var results = [IntakeOutcome?](repeating: nil, count: items.count)
        for (position, entry) in valid.enumerated() { results[entry.index] = stored[position] }
        for entry in rejected {
            results[entry.index] = IntakeOutcome(externalId: entry.submission.externalId, id: nil, revision: nil, status: .rejected, errors: entry.submission.errors)
        }
        struct Body: Encodable { var results: [IntakeOutcome] }
        let json = try CoalitionJSON.encoder.encode(Body(results: results.map { $0! }))
        return Response(status: .accepted, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    func fetch(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ProblemDetails(status: .notFound, detail: "No incident with that id.")
        }
        guard let row = try await postgres.query("SELECT source_id, document::text FROM incidents WHERE id = \(id)").first else {
            throw ProblemDetails(status: .notFound, detail: "No incident with that id.")
        }
        let (source, document) = try row.decode((String, String).self)
        guard caller.mayWrite(source) else { throw ProblemDetails(status: .notFound, detail: "No incident with that id.") }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: document)))
    }

    /// `GET /v1/incidents?source=&area=&category=&since=&limit=&cursor=`: current revisions in
    /// update order (`since` = updated at or after), paged with an opaque keyset cursor so a
    /// client can follow changes without missing or repeating one.
    func list(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let caller = try await authenticate(request)
        let parameters = request.uri.queryParameters
        var query: PostgresQuery = "SELECT document::text, updated_at::text, id FROM incidents WHERE true"
        var source = parameters["source"].map(String.init)
        if case .source(let own) = caller {
            if let source, source != own { throw ProblemDetails(status: .forbidden, detail: "This key may only read incidents of its own source.") }
            source = own
        }
        if let source { query.append(" AND source_id = \(source)") }
        if let area = parameters["area"].map(String.init) { query.append(" AND area_id = \(area)") }
        if let category = parameters["category"].map(String.init) { query.append(" AND category = \(category)") }
        if let since = parameters["since"].map(String.init) {
            guard let date = RFC3339.date(from: since) else {
                throw ProblemDetails(status: .badRequest, title: "Invalid query",
                                     errors: [.init(field: "since", code: "invalid_time", message: "since must be an RFC 3339 time with offset")])
            }
            query.append(" AND updated_at >= \(date)")
        }
        if let cursor = parameters["cursor"].map(String.init) {
            guard let (updatedAt, id) = Self.decodeCursor(cursor) else {
                throw ProblemDetails(status: .badRequest, title: "Invalid query",
                                     errors: [.init(field: "cursor", code: "invalid_cursor", message: "use the next_cursor of a previous page")])
            }
            query.append(" AND (updated_at, id) > (\(updatedAt)::timestamptz, \(id))")
        }
        let limit = min(max(Int(parameters["limit"].map(String.init) ?? "") ?? 100, 1), 1000)
        query.append(" ORDER BY updated_at, id LIMIT \(limit + 1)")
        let rows = try await postgres.query(query)
        var documents: [String] = []
        var nextCursor: String?
        for (index, row) in rows.enumerated() {
            if index == limit {
                let previous = rows[index - 1]
                nextCursor = Self.encodeCursor(updatedAt: try previous.decode(1, as: String.self), id: try previous.decode(2, as: UUID.self))
                break
            }
            documents.append(try row.decode(0, as: String.self))
        }
        var body = "{\"incidents\":[" + documents.joined(separator: ",") + "]"
        if let nextCursor { body += ",\"next_cursor\":\"\(nextCursor)\"" }
        body += "}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The cursor carries the last row's exact `updated_at` (PostgreSQL's own text form, so no
    /// precision is lost) and id, base64url-encoded.
    static func encodeCursor(updatedAt: String, id: UUID) -> String {
        Data("\(updatedAt)|\(id.uuidString.lowercased())".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeCursor(_ cursor: String) -> (String, UUID)? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|")
        guard parts.count == 2, let id = UUID(uuidString: String(parts[1])) else { return nil }
        return (String(parts[0]), id)
    }
}
