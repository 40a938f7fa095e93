import Contracts
import Foundation

/// One element of `GET /open311/v2/requests.json` and `requests/{id}.json`: a stored
/// incident in GeoReport v2's service-request shape.
///
/// - `service_request_id` is the incident's `external_id` within its source (the id a POST
///   returned, for requests made here).
/// - `status` is `closed` when the incident has a `closed_at` or its source status is one of
///   `closedStatusWords` (compared trimmed, case-insensitively), else `open`.
/// - `requested_datetime` is when it was reported (`reported_at`, else `occurred_at`);
///   `updated_datetime` when this platform last stored a revision of it.
/// - `agency_responsible` and `media_url` come from the source's attributes (`agency_responsible`
///   or `agency`; `media_url`).
///
/// Privacy (SPEC §6): GeoReport reads are public, so a sensitive incident (`sex_offense`,
/// `domestic_violence`) is listed with its service, status and times but without
/// `description`, `address`, `lat`, `long` or `media_url`: the keys are absent, not
/// generalised. It is listed rather than hidden so that counts a client makes stay honest.
/// Absent values are omitted rather than written as `null`, so a missing key says nothing
/// about why it is missing.
struct Open311ServiceRequest: Encodable, Sendable, Equatable {
    /// Source status words that mean the request is closed.
    static let closedStatusWords = ["closed", "resolved", "completed", "complete", "cancelled", "canceled"]

    var serviceRequestId: String
    var status: String
    var serviceName: String
    var serviceCode: String
    var description: String?
    var agencyResponsible: String?
    var requestedDatetime: String
    var updatedDatetime: String
    var address: String?
    var lat: Double?
    var long: Double?
    var mediaUrl: String?

    init(incident: CanonicalIncident, storedAt: Date) {
        serviceRequestId = incident.externalId
        status = Self.isClosed(closedAt: incident.closedAt, status: incident.status) ? "closed" : "open"
        serviceName = incident.category.open311Name
        serviceCode = incident.category.rawValue
        agencyResponsible = incident.attributes?["agency_responsible"] ?? incident.attributes?["agency"]
        requestedDatetime = Self.format(incident.reportedAt ?? incident.occurredAt)
        updatedDatetime = Self.format(storedAt)
        if !(incident.sensitive || incident.category.isSensitive) {
            description = incident.description
            address = incident.location?.address
            lat = incident.location?.coordinate?.lat
            long = incident.location?.coordinate?.lon
            mediaUrl = incident.attributes?["media_url"]
        }
    }

    static func isClosed(closedAt: Date?, status: String?) -> Bool {
        guard closedAt == nil else { return true }
        guard let status else { return false }
        return closedStatusWords.contains(status.trimmingCharacters(in: CharacterSet(charactersIn: " ")).lowercased())
    }

    /// W3C date-time in UTC, whole seconds (`2025-03-14T05:20:00Z`), the form GeoReport shows.
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    enum CodingKeys: String, CodingKey {
        case serviceRequestId = "service_request_id"
        case status
        case serviceName = "service_name"
        case serviceCode = "service_code"
        case description
        case agencyResponsible = "agency_responsible"
        case requestedDatetime = "requested_datetime"
        case updatedDatetime = "updated_datetime"
        case address
        case lat
        case long
        case mediaUrl = "media_url"
    }
}
