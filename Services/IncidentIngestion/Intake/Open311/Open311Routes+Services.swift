import Contracts
import Foundation
import Hummingbird
import Postgres

extension Open311Routes {
    /// `GET /open311/v2/services.json`: one service per canonical category the jurisdiction's
    /// source maps a label to, in taxonomy order.
    func listServices(_ request: Request) async throws -> Response {
        let query = try queryForm(request)
        let source = try await jurisdiction(jurisdictionID: query["jurisdiction_id"], key: query["api_key"])
        var labels: [IncidentCategory: [String]] = [:]
        for row in try await postgres.query("""
            SELECT category, array_agg(label ORDER BY label) FROM category_mappings WHERE source_id = \(source) GROUP BY category
            """) {
            let (code, mapped) = try row.decode((String, [String]).self)
            if let category = IncidentCategory(rawValue: code) { labels[category] = mapped }
        }
        let services = IncidentCategory.allCases.compactMap { category in
            labels[category].map { Open311Service(category: category, labels: $0) }
        }
        return try Open311Response.json(services)
    }
}
