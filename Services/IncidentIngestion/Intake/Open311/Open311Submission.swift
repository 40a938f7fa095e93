import Contracts
import Foundation
import ServiceKit

/// A GeoReport v2 `POST requests.json` turned into the incident object of SPEC §4.1, which
/// then goes through `IncidentValidator` like every other channel's incidents.
///
/// - `source` is the source of the `api_key`; `external_id` a new UUID, returned as the
///   `service_request_id`; `category` the `service_code`, which must be a canonical code.
/// - `occurred_at` and `reported_at` are the time of the POST (GeoReport sends no time);
///   `status` is `open`.
/// - `lat` + `long` become `location.lat` / `location.lon`, `address_string` becomes
///   `location.address`. Without coordinates, `address_string` is also the `area_hint`, so the
///   source's area-hint mapping places the request; an address it does not know leaves the
///   incident `unassigned` (nothing geocodes it). Neither coordinates nor `address_string` is a
///   400. `address_id` is kept as an attribute but does not place the request: there is no
///   address register to resolve it against.
/// - `description` is kept as sent; `attribute[CODE]` fields become `attributes.CODE`;
///   `media_url` and `address_id` become attributes of those names.
/// - The reporter's contact fields (`email`, `first_name`, `last_name`, `phone`, `device_id`,
///   `account_id`) are not kept: the canonical incident is published to every consumer and
///   has no place for personal data with narrower access.
///
/// Empty form values count as absent.
struct Open311Submission: Sendable {
    /// Fields never kept, not even in the copy of a refused submission.
    static let personalFields: Set<String> = ["email", "first_name", "last_name", "phone", "device_id", "account_id"]
    /// The credential: kept nowhere.
    static let credentialFields: Set<String> = ["api_key"]
    /// GeoReport fields that become attributes of the same name.
    static let attributeFields = ["media_url", "address_id"]

    var form: Open311Form

    /// The incident object for the validator, and the errors found in GeoReport's own fields
    /// (which the validator cannot see: it takes any label as a category).
    func incidentObject(source: String, externalId: String, now: Date) -> (object: [String: Any], errors: [ProblemDetails.FieldError]) {
        var errors: [ProblemDetails.FieldError] = []
        let time = RFC3339.string(from: now)
        var object: [String: Any] = [
            "source": source, "external_id": externalId, "occurred_at": time, "reported_at": time, "status": "open",
        ]
        if let code = form["service_code"] {
            object["category"] = code
            if IncidentCategory(rawValue: code) == nil {
                errors.append(.init(field: "category", code: "unknown_service_code", message: "\(code) was not found in services.json"))
            }
        }
        if let description = form["description"] { object["description"] = description }

        var location: [String: Any] = [:]
        if let lat = form["lat"] { location["lat"] = Self.number(lat) }
        if let long = form["long"] { location["lon"] = Self.number(long) }
        if let address = form["address_string"] {
            location["address"] = address
            if location["lat"] == nil, location["lon"] == nil { object["area_hint"] = address }
        }
        if !location.isEmpty { object["location"] = location }

        var attributes: [String: Any] = [:]
        for (code, value) in form.attributes { attributes[code] = value }
        for name in Self.attributeFields {
            guard let value = form[name] else { continue }
            if attributes[name] != nil {
                errors.append(.init(field: "attributes.\(name)", code: "conflict", message: "is sent both as \(name) and as attribute[\(name)]"))
            }
            attributes[name] = value
        }
        if !attributes.isEmpty { object["attributes"] = attributes }
        return (object, errors)
    }

    /// The submission as received, without the credential and the personal fields.
    var keptBytes: [UInt8] {
        form.redacted(removing: Self.credentialFields.union(Self.personalFields))
    }

    /// A number as the validator takes it; anything else stays a string so the validator
    /// reports it (`must be a number`) instead of it being dropped.
    private static func number(_ text: String) -> Any {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else { return text }
        return NSNumber(value: value)
    }

    /// One reason in GeoReport's words: the form field a client sent, not the incident field
    /// it became.
    static func describe(_ error: ProblemDetails.FieldError) -> String {
        switch (error.field, error.code) {
        case ("category", "required"): return "service_code was not provided"
        case ("category", "unknown_service_code"): return "service_code \(error.message)"
        case ("location", "required"): return "a location is required: lat and long, or address_string"
        case ("location.lon", "required"): return "long is required with lat"
        case ("location.lat", "required"): return "lat is required with long"
        case ("location", "null_island"): return "lat/long 0,0 is a placeholder, not a location; omit the coordinates instead"
        case ("attributes", _): return "attribute \(error.message)"
        default: return "\(parameter(for: error.field)) \(error.message)"
        }
    }

    private static func parameter(for field: String) -> String {
        if field.hasPrefix("attributes.") {
            let name = String(field.dropFirst("attributes.".count))
            return attributeFields.contains(name) ? name : "attribute[\(name)]"
        }
        return switch field {
        case "": "request"
        case "source": "api_key"
        case "external_id": "service_request_id"
        case "category": "service_code"
        case "occurred_at", "reported_at": "requested_datetime"
        case "location.lat": "lat"
        case "location.lon": "long"
        case "location.address", "area_hint": "address_string"
        case "location": "lat/long"
        default: field
        }
    }
}
