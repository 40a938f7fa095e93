import Contracts
import Foundation
import Hummingbird
import Logging
import Postgres

/// The Open311 GeoReport v2 front door (SPEC §4.1), JSON format only:
///
/// - `GET  /open311/v2/services.json`: the jurisdiction's services (`Open311Service`).
/// - `POST /open311/v2/requests.json`: a form-encoded service request, authenticated by the
///   source's `api_key`; it becomes an incident through the same validator and store as
///   `POST /v1/incidents` (`Open311Submission`) and answers `201`
///   `[{"service_request_id","service_notice","account_id":null}]`.
/// - `GET  /open311/v2/requests.json` and `GET /open311/v2/requests/{id}.json`: stored
///   incidents as service requests (`Open311RequestQuery`, `Open311ServiceRequest`), with
///   sensitive incidents stripped of description and location.
///
/// A jurisdiction is a source: `jurisdiction_id` is a source id, or the source of an
/// `api_key`, or, when only one source is registered, that one. Reads need no key (GeoReport
/// reads are public; SPEC §6 asks a credential only of what changes state), but a key that
/// is sent must be valid. Writes take only source keys: the operator token is not a GeoReport
/// credential.
///
/// Every answer, errors included, is GeoReport JSON (`Open311Error` explains why errors are
/// not problem details here).
public struct Open311Routes: Sendable {
    /// Largest accepted form body (64 KiB, far above what the field limits allow); larger is 413.
    public static let maximumBodySize = 64 * 1024

    let store: IncidentStore
    let sources: SourceRegistry
    let postgres: PostgresClient
    let clock: @Sendable () -> Date
    /// The same per-source buckets as `POST /v1/incidents`: a source cannot dodge its limit by
    /// switching front doors.
    let rateLimiter: SourceRateLimiter?

    public init(store: IncidentStore, sources: SourceRegistry, postgres: PostgresClient, rateLimiter: SourceRateLimiter? = nil) {
        self.init(store: store, sources: sources, postgres: postgres, rateLimiter: rateLimiter, clock: { Date() })
    }

    init(store: IncidentStore, sources: SourceRegistry, postgres: PostgresClient, rateLimiter: SourceRateLimiter? = nil,
         clock: @escaping @Sendable () -> Date) {
        self.store = store
        self.sources = sources
        self.postgres = postgres
        self.rateLimiter = rateLimiter
        self.clock = clock
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/open311/v2/services.json") { request, context in
            await answer(context) { try await listServices(request) }
        }
        router.post("/open311/v2/requests.json") { request, context in
            await answer(context) { try await submit(request, context: context) }
        }
        router.get("/open311/v2/requests.json") { request, context in
            await answer(context) { try await listRequests(request) }
        }
        router.get("/open311/v2/requests/{id}.json") { request, context in
            await answer(context) { try await fetchRequest(request, context: context) }
        }
    }

    /// Runs a handler and turns whatever it throws into a GeoReport error response, so the
    /// platform's problem-details middleware never sees an `/open311` error.
    private func answer(_ context: BasicRequestContext, _ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch let error as Open311Error {
            return error.response()
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return Open311Error(.contentTooLarge, "the request body is larger than \(Self.maximumBodySize) bytes").response()
        } catch let error as HTTPResponseError where (400..<500).contains(error.status.code) {
            return Open311Error(error.status, error.status.reasonPhrase).response()
        } catch {
            context.logger.error("open311 request failed", metadata: ["error": "\(error)"])
            return Open311Error(.internalServerError, "the server could not complete the request").response()
        }
    }

    /// The query string's fields.
    /// The query string's fields. None of them may hold a NUL: no id, code or date has one,
    /// and PostgreSQL text cannot carry one as a parameter.
    func queryForm(_ request: Request) throws(Open311Error) -> Open311Form {
        let form = try Open311Form(decoding: request.uri.query ?? "")
        if let field = form.fields.first(where: { $0.name.contains("\u{0}") || $0.value.contains("\u{0}") }) {
            throw .badRequest("the query parameter \(field.name.replacingOccurrences(of: "\u{0}", with: "%00")) contains a NUL character")
        }
        return form
    }
}
