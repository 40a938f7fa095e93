import Foundation
import Postgres

extension Open311Routes {
    /// The source a key belongs to; 403 for a missing, unknown or revoked key.
    func authenticate(key: String?) async throws -> String {
        guard let key else { throw Open311Error.apiKeyMissing }
        guard let source = try await sources.authenticate(key: key) else { throw Open311Error.apiKeyInvalid }
        return source
    }

    /// The source a request addresses: `jurisdiction_id`, else the source of `api_key`, else the
    /// only registered source. A key of another source than `jurisdiction_id` is a 403.
    func jurisdiction(jurisdictionID: String?, key: String?) async throws -> String {
        let keySource: String? = key == nil ? nil : try await authenticate(key: key)
        if let jurisdictionID {
            // No source id holds a NUL, and PostgreSQL text cannot carry one as a parameter (the
            // query string is checked already; this is for a POST's form body).
            guard !jurisdictionID.contains("\u{0}") else { throw Open311Error.badRequest("jurisdiction_id contains a NUL character") }
            guard try await postgres.query("SELECT 1 FROM sources WHERE id = \(jurisdictionID)").first != nil else {
                throw Open311Error.jurisdictionNotFound
            }
            if let keySource, keySource != jurisdictionID {
                throw Open311Error(.forbidden, "api_key does not belong to jurisdiction \(jurisdictionID)")
            }
            return jurisdictionID
        }
        if let keySource { return keySource }
        let registered = try await postgres.query("SELECT id FROM sources ORDER BY id LIMIT 2").map { try $0.decode(0, as: String.self) }
        guard registered.count == 1 else { throw Open311Error.jurisdictionRequired }
        return registered[0]
    }
}
