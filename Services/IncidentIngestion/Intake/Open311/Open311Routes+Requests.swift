import Contracts
import Foundation
import Hummingbird
import Postgres

extension Open311Routes {
    /// `GET /open311/v2/requests.json`: the jurisdiction's requests matching the filters.
    func listRequests(_ request: Request) async throws -> Response {
        let query = try queryForm(request)
        let source = try await jurisdiction(jurisdictionID: query["jurisdiction_id"], key: query["api_key"])
        let filters = try Open311RequestQuery(form: query, now: clock())
        return try Open311Response.json(try await serviceRequests(filters.sql(source: source)))
    }

    /// `GET /open311/v2/requests/{id}.json`: one request, as a one-element array.
    func fetchRequest(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let query = try queryForm(request)
        let source = try await jurisdiction(jurisdictionID: query["jurisdiction_id"], key: query["api_key"])
        // No stored external id holds a NUL (the validator refuses one), so such an id is not found.
        guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty, !id.contains("\u{0}") else {
            throw Open311Error(.notFound, "service_request_id was not found")
        }
        let found = try await serviceRequests("""
            SELECT document::text, updated_at FROM incidents WHERE source_id = \(source) AND external_id = \(id)
            """)
        guard !found.isEmpty else { throw Open311Error(.notFound, "service_request_id \(id) was not found") }
        return try Open311Response.json(found)
    }

    private func serviceRequests(_ query: PostgresQuery) async throws -> [Open311ServiceRequest] {
        let decoder = CoalitionJSON.decoder
        return try await postgres.query(query).map { row in
            let (document, storedAt) = try row.decode((String, Date).self)
            let incident = try decoder.decode(CanonicalIncident.self, from: Data(document.utf8))
            return Open311ServiceRequest(incident: incident, storedAt: storedAt)
        }
    }
}
