import Foundation
import Hummingbird

/// A GeoReport v2 error: the HTTP status plus the spec's error array,
/// `[{"code":400,"description":"..."}]`, one element per reason.
///
/// The `/open311` routes answer with this shape instead of the RFC 9457 problem details the
/// rest of the platform uses, authentication failures included: GeoReport clients parse their
/// own error array and nothing else, and a front door that speaks a client's protocol must
/// speak it for errors too. The HTTP status is the one the array's `code` carries. Missing or
/// invalid `api_key` is `403`, as GeoReport lists it (the key is a form parameter, not an HTTP
/// authentication scheme, so `401` with its mandatory `WWW-Authenticate` would not fit).
struct Open311Error: Error, Sendable, Equatable {
    var status: HTTPResponse.Status
    var descriptions: [String]
    /// Seconds for `Retry-After` (429 only).
    var retryAfter: Int?

    init(_ status: HTTPResponse.Status, _ descriptions: [String], retryAfter: Int? = nil) {
        self.status = status
        self.descriptions = descriptions
        self.retryAfter = retryAfter
    }

    init(_ status: HTTPResponse.Status, _ description: String) {
        self.init(status, [description])
    }

    static func badRequest(_ description: String) -> Self { Self(.badRequest, description) }

    static let apiKeyMissing = Self(.forbidden, "api_key was not provided")
    static let apiKeyInvalid = Self(.forbidden, "api_key is invalid or revoked")
    static let jurisdictionNotFound = Self(.notFound, "jurisdiction_id provided not found")
    static let jurisdictionRequired = Self(
        .badRequest, "jurisdiction_id was not provided: this endpoint serves several jurisdictions (one per source)")

    func response() -> Response {
        struct Item: Encodable {
            var code: Int
            var description: String
        }
        let items = descriptions.map { Item(code: status.code, description: $0) }
        // Strings and integers always encode; the literal only satisfies the type checker.
        let bytes = (try? Open311Response.encoder.encode(items)) ?? Data(#"[{"code":500,"description":"error"}]"#.utf8)
        var response = Open311Response.json(bytes: bytes, status: status)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}
