import Foundation
import Hummingbird

/// An RFC 9457 problem details response (`application/problem+json`). Every HTTP error of
/// every service is one of these, so clients parse errors one way.
public struct ProblemDetails: HTTPResponseError, Sendable {
    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var code: String
        public var message: String
        public init(field: String, code: String, message: String) {
            self.field = field
            self.code = code
            self.message = message
        }
    }

    public var status: HTTPResponse.Status
    /// A URI naming the problem type; `about:blank` when the status says it all.
    public var type: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError]
    /// Extra members (e.g. readiness `checks`).
    public var extensions: [String: any Sendable]
    public var headers: HTTPFields

    public init(
        status: HTTPResponse.Status, type: String = "about:blank", title: String? = nil, detail: String? = nil,
        errors: [FieldError] = [], extensions: [String: any Sendable] = [:], headers: HTTPFields = [:]
    ) {
        self.status = status
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: [String: Any] = ["type": type, "title": title, "status": status.code, "instance": request.uri.path]
        if let detail { object["detail"] = detail }
        if !errors.isEmpty {
            object["errors"] = errors.map { ["field": $0.field, "code": $0.code, "message": $0.message] }
        }
        for (key, value) in extensions { object[key] = value }
        let body = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error a route throws into problem details: ours pass through, Hummingbird's
/// `HTTPError`s keep their status, anything else is a 500 whose detail reveals nothing.
public struct ProblemDetailsMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as ProblemDetails {
            throw problem
        } catch let error as HTTPError {
            throw ProblemDetails(status: error.status, detail: error.body, headers: error.headers)
        } catch let error as HTTPResponseError {
            throw ProblemDetails(status: error.status)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            throw ProblemDetails(status: .internalServerError, detail: "The server could not complete the request.")
        }
    }
}
