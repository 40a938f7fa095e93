import Contracts

/// One element of `GET /open311/v2/services.json`: a canonical category the jurisdiction's
/// source maps at least one of its own labels to.
///
/// `service_code` is the canonical code (what a client POSTs back), `group` the category
/// group, `keywords` the source's labels that map to it, comma-separated as GeoReport
/// defines. Every service is `realtime` (a request gets its `service_request_id` at once)
/// and has no attribute definition (`metadata` false).
struct Open311Service: Encodable, Sendable, Equatable {
    var serviceCode: String
    var serviceName: String
    var description: String
    var metadata: Bool
    var type: String
    var keywords: String
    var group: String

    init(category: IncidentCategory, labels: [String]) {
        serviceCode = category.rawValue
        serviceName = category.open311Name
        description = category.open311Description
        metadata = false
        type = "realtime"
        keywords = labels.joined(separator: ", ")
        group = category.group.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case serviceCode = "service_code"
        case serviceName = "service_name"
        case description
        case metadata
        case type
        case keywords
        case group
    }
}
