import Contracts
import Foundation
import ServiceKit

/// Why one incident was refused: every field error found, in the order of SPEC §4.1's
/// fields. Over HTTP these become the `errors` of a 422 problem; on Kafka, the reasons of
/// the record sent to `incidents.rejected`.
struct IncidentValidationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    var errors: [ProblemDetails.FieldError]

    var description: String {
        "invalid incident: " + errors.map { "\($0.field.isEmpty ? "(body)" : $0.field) \($0.code)" }.joined(separator: ", ")
    }
}

/// Checks one incident as an upstream sent it (SPEC §4.1, §4.3) and turns it into a
/// `RawIncident`. Nothing is corrected on the way: a value is either taken as sent or
/// refused with a field error, and all errors are reported at once, not just the first.
///
/// Rules:
/// - `source`, `external_id` and `category` are non-blank strings of at most 256
///   characters; `source` has no control characters (it is joined with the external id
///   by U+001F to form the incident id).
/// - `occurred_at` is required; `reported_at`, `closed_at` and `updated_at` are optional.
///   All are RFC 3339 date-times with an explicit offset (`Z` or `±hh:mm`, fractional
///   seconds allowed); a local time without offset is `missing_offset`. Calendar values
///   are checked, not rolled over (`2025-02-30` is `invalid_time`); leap seconds (`:60`)
///   are refused since the platform's dates cannot represent them.
/// - A location is either `location.lat` + `location.lon` (JSON numbers; latitude in
///   [-90, 90], longitude in [-180, 180]; not both exactly 0, which is an upstream's
///   placeholder rather than a place) or a non-blank `area_hint`. `location.address` is
///   optional. One coordinate without the other is an error even when a hint is present.
/// - `description` has at most 4,000 characters; `status`, `area_hint` and
///   `location.address` at most 256.
/// - `severity` is null or an integer from 1 to 5 (`3.0` is accepted as 3).
/// - `attributes` is an object of at most 50 members whose values are strings of at most
///   256 characters; a `null` member is dropped like an absent one, a number or boolean is
///   `not_a_string`.
/// - `null` means absent for every optional field.
/// - Unknown members, top-level or inside `location`, are ignored: upstream exports carry
///   extra columns, and newer senders must not be refused by an older service.
///
/// Field names are dotted paths into the document (`occurred_at`, `location.lat`,
/// `attributes.agency`); the empty string names the document itself.
enum IncidentValidator {
    /// Machine-readable error codes. They are part of the API: clients branch on them.
    enum Code: String, Sendable, CaseIterable {
        /// The bytes are not JSON.
        case invalidJSON = "invalid_json"
        /// A required field is absent or `null`.
        case required
        /// The JSON type is not the one the field takes.
        case wrongType = "wrong_type"
        /// A string that must say something is empty or only whitespace.
        case empty
        case tooLong = "too_long"
        case tooMany = "too_many"
        /// Control characters where they are not allowed.
        case invalidCharacters = "invalid_characters"
        /// A date-time without `Z` or `±hh:mm`.
        case missingOffset = "missing_offset"
        /// Not an RFC 3339 date-time, or not a real one.
        case invalidTime = "invalid_time"
        case outOfRange = "out_of_range"
        /// Latitude and longitude both exactly 0.
        case nullIsland = "null_island"
        /// An attribute value that is not a string.
        case notAString = "not_a_string"
        /// A number with a fractional part where an integer is required.
        case notAnInteger = "not_an_integer"
    }

    enum Limits {
        static let identifierLength = 256
        static let shortTextLength = 256
        static let descriptionLength = 4_000
        static let attributeCount = 50
        static let attributeNameLength = 256
        static let attributeValueLength = 256
        static let severity = 1...5
        static let latitude = -90.0...90.0
        static let longitude = -180.0...180.0
    }

    /// The field name of the document as a whole.
    static let documentField = ""

    /// Validates the JSON bytes of one incident (read by `JSONScanner`, which accepts exactly
    /// what Foundation's `JSONSerialization` did).
    static func validate(json bytes: some Collection<UInt8>) -> Result<RawIncident, IncidentValidationFailure> {
        guard let value = JSONScanner.parse(Array(bytes)) else {
            return .failure(.init(errors: [.init(field: documentField, code: Code.invalidJSON.rawValue, message: "the body is not valid JSON")]))
        }
        return validate(value)
    }

    /// Validates one JSON value (e.g. one element of a batch's `incidents` array), which must
    /// be an object.
    static func validate(_ value: JSONValue) -> Result<RawIncident, IncidentValidationFailure> {
        guard case .object(let object) = value else {
            return .failure(.init(errors: [.init(field: documentField, code: Code.wrongType.rawValue, message: "an incident is a JSON object")]))
        }
        return validate(object)
    }

    /// Validates an incident built as a Foundation object (the CSV importer, Open311).
    static func validate(_ object: [String: Any]) -> Result<RawIncident, IncidentValidationFailure> {
        guard case .object(let converted)? = JSONValue(foundation: object) else {
            return .failure(.init(errors: [.init(field: documentField, code: Code.wrongType.rawValue, message: "holds a value JSON cannot represent")]))
        }
        return validate(converted)
    }

    /// Validates one incident object.
    static func validate(_ object: JSONObject) -> Result<RawIncident, IncidentValidationFailure> {
        var checker = Checker()

        let source = checker.identifier(object["source"], field: "source")
        if let source, Checker.containsControlCharacters(source) {
            checker.fail("source", .invalidCharacters, "must not contain control characters")
        }
        let externalId = checker.identifier(object["external_id"], field: "external_id")
        let category = checker.identifier(object["category"], field: "category")
        let description = checker.optionalText(object["description"], field: "description", maxLength: Limits.descriptionLength)
        let occurredAt = checker.time(object["occurred_at"], field: "occurred_at", required: true)
        let reportedAt = checker.time(object["reported_at"], field: "reported_at", required: false)
        let closedAt = checker.time(object["closed_at"], field: "closed_at", required: false)
        let updatedAt = checker.time(object["updated_at"], field: "updated_at", required: false)
        let status = checker.optionalText(object["status"], field: "status", maxLength: Limits.shortTextLength)
        let (location, areaHint) = checker.location(object["location"], areaHint: object["area_hint"])
        let severity = checker.severity(object["severity"])
        let attributes = checker.attributes(object["attributes"])

        guard checker.errors.isEmpty, let source, let externalId, let category, let occurredAt else {
            assert(!checker.errors.isEmpty, "a required field was dropped without an error")
            return .failure(.init(errors: checker.errors))
        }
        return .success(
            RawIncident(
                source: source, externalId: externalId, category: category, description: description,
                occurredAt: occurredAt, reportedAt: reportedAt, closedAt: closedAt, updatedAt: updatedAt,
                status: status, location: location, areaHint: areaHint, severity: severity, attributes: attributes))
    }
}

extension IncidentValidator {
    /// Collects errors while reading fields; each reader returns `nil` when the value is
    /// absent or refused (and records why, if refused).
    fileprivate struct Checker {
        var errors: [ProblemDetails.FieldError] = []

        mutating func fail(_ field: String, _ code: Code, _ message: String) {
            errors.append(.init(field: field, code: code.rawValue, message: message))
        }

        /// A required, non-blank string of at most `Limits.identifierLength` characters.
        mutating func identifier(_ value: JSONValue?, field: String) -> String? {
            guard let value = present(value) else {
                fail(field, .required, "is required")
                return nil
            }
            guard case .string(let text) = value else {
                fail(field, .wrongType, "must be a string")
                return nil
            }
            guard Self.hasNonWhitespace(text) else {
                fail(field, .empty, "must not be empty")
                return nil
            }
            guard fits(text, Limits.identifierLength) else {
                fail(field, .tooLong, "must be at most \(Limits.identifierLength) characters")
                return nil
            }
            guard storable(text, field: field) else { return nil }
            return text
        }

        /// PostgreSQL text cannot hold U+0000; refuse it rather than fail later (or strip it).
        mutating func storable(_ text: String, field: String) -> Bool {
            guard !Self.containsNUL(text) else {
                fail(field, .invalidCharacters, "must not contain the NUL character (U+0000)")
                return false
            }
            return true
        }

        /// An optional string, taken as sent (blank included).
        mutating func optionalText(_ value: JSONValue?, field: String, maxLength: Int) -> String? {
            guard let value = present(value) else { return nil }
            guard case .string(let text) = value else {
                fail(field, .wrongType, "must be a string")
                return nil
            }
            guard fits(text, maxLength) else {
                fail(field, .tooLong, "must be at most \(maxLength) characters")
                return nil
            }
            guard storable(text, field: field) else { return nil }
            return text
        }

        mutating func time(_ value: JSONValue?, field: String, required: Bool) -> Date? {
            guard let value = present(value) else {
                if required { fail(field, .required, "is required") }
                return nil
            }
            guard case .string(let text) = value else {
                fail(field, .wrongType, "must be an RFC 3339 date-time string")
                return nil
            }
            switch RFC3339Syntax.check(text) {
            case .valid:
                // The syntax check already refused what the parser would roll over.
                // Valid text is ASCII, so its bytes are its characters.
                let canonical = text.utf8.contains(where: { $0 == UInt8(ascii: "t") || $0 == UInt8(ascii: "z") }) ? text.uppercased() : text
                guard let date = RFC3339Timestamp.date(fromValid: canonical) else {
                    fail(field, .invalidTime, "is not a valid RFC 3339 date-time")
                    return nil
                }
                return date
            case .missingOffset:
                fail(field, .missingOffset, "needs a UTC offset (Z or ±hh:mm), e.g. 2025-03-14T01:20:00-04:00")
                return nil
            case .invalid:
                fail(field, .invalidTime, "is not a valid RFC 3339 date-time, e.g. 2025-03-14T01:20:00-04:00")
                return nil
            }
        }

        /// `location` and `area_hint` together: one of them must place the incident.
        mutating func location(_ value: JSONValue?, areaHint hintValue: JSONValue?) -> (IncidentLocation?, String?) {
            var location: IncidentLocation?
            var coordinatesGiven = false
            var hasCoordinates = false
            if let value = present(value) {
                if case .object(let object) = value {
                    let latValue = present(object["lat"])
                    let lonValue = present(object["lon"])
                    coordinatesGiven = latValue != nil || lonValue != nil
                    let lat = coordinate(latValue, field: "location.lat", range: Limits.latitude)
                    let lon = coordinate(lonValue, field: "location.lon", range: Limits.longitude)
                    if latValue != nil, lonValue == nil { fail("location.lon", .required, "is required with location.lat") }
                    if lonValue != nil, latValue == nil { fail("location.lat", .required, "is required with location.lon") }
                    let address = optionalText(object["address"], field: "location.address", maxLength: Limits.shortTextLength)
                    if let lat, let lon {
                        if lat == 0, lon == 0 {
                            fail("location", .nullIsland, "0,0 is a placeholder, not a location; omit the coordinates instead")
                        } else {
                            hasCoordinates = true
                        }
                    }
                    if hasCoordinates || address != nil {
                        location = IncidentLocation(lat: hasCoordinates ? lat : nil, lon: hasCoordinates ? lon : nil, address: address)
                    }
                } else {
                    fail("location", .wrongType, "must be an object with lat and lon")
                    coordinatesGiven = true
                }
            }

            let hintGiven = present(hintValue) != nil
            let areaHint = optionalText(hintValue, field: "area_hint", maxLength: Limits.shortTextLength)
            if !coordinatesGiven {
                if let areaHint, !areaHint.contains(where: { !$0.isWhitespace }) {
                    fail("area_hint", .empty, "must not be blank when the location has no coordinates")
                } else if !hintGiven {
                    fail("location", .required, "needs location.lat and location.lon, or an area_hint")
                }
            }
            return (location, areaHint)
        }

        mutating func coordinate(_ value: JSONValue?, field: String, range: ClosedRange<Double>) -> Double? {
            guard let value else { return nil }
            guard let number = number(value) else {
                fail(field, .wrongType, "must be a number")
                return nil
            }
            guard range.contains(number) else {
                fail(field, .outOfRange, "must be between \(Int(range.lowerBound)) and \(Int(range.upperBound))")
                return nil
            }
            return number
        }

        mutating func severity(_ value: JSONValue?) -> Int? {
            guard let value = present(value) else { return nil }
            guard let number = number(value) else {
                fail("severity", .wrongType, "must be an integer from 1 to 5, or null")
                return nil
            }
            guard number.rounded() == number else {
                fail("severity", .notAnInteger, "must be an integer from 1 to 5, or null")
                return nil
            }
            guard number >= Double(Limits.severity.lowerBound), number <= Double(Limits.severity.upperBound) else {
                fail("severity", .outOfRange, "must be from 1 to 5")
                return nil
            }
            return Int(number)
        }

        mutating func attributes(_ value: JSONValue?) -> [String: String]? {
            guard let value = present(value) else { return nil }
            guard case .object(let members) = value else {
                fail("attributes", .wrongType, "must be an object of strings")
                return nil
            }
            let object = members.uniqueMembers
            guard object.count <= Limits.attributeCount else {
                fail("attributes", .tooMany, "must have at most \(Limits.attributeCount) members")
                return nil
            }
            var attributes: [String: String] = [:]
            attributes.reserveCapacity(object.count)
            for name in object.keys.sorted() {
                guard let member = present(object[name]) else { continue }
                let field = "attributes.\(name)"
                guard !name.isEmpty else {
                    fail("attributes", .empty, "member names must not be empty")
                    continue
                }
                guard fits(name, Limits.attributeNameLength) else {
                    fail("attributes", .tooLong, "member names must be at most \(Limits.attributeNameLength) characters")
                    continue
                }
                guard case .string(let text) = member else {
                    fail(field, .notAString, "must be a string")
                    continue
                }
                guard fits(text, Limits.attributeValueLength) else {
                    fail(field, .tooLong, "must be at most \(Limits.attributeValueLength) characters")
                    continue
                }
                guard storable(name, field: "attributes"), storable(text, field: field) else { continue }
                attributes[name] = text
            }
            return attributes
        }

        /// `nil` for an absent member and for JSON `null`.
        private func present(_ value: JSONValue?) -> JSONValue? {
            guard let value, value != .null else { return nil }
            return value
        }

        /// A JSON number as a `Double`; `nil` for anything else, booleans included.
        private func number(_ value: JSONValue) -> Double? {
            guard case .number(let number) = value else { return nil }
            return number.doubleValue
        }

        static func containsNUL(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { bytes in bytes.count > 0 && memchr(bytes.baseAddress!, 0, bytes.count) != nil }
        }

        /// Whether any character is not white space. A printable ASCII byte anywhere starts a
        /// character that is not (no white-space cluster can hold one), so most texts are
        /// decided by their first byte without breaking the text into characters.
        static func hasNonWhitespace(_ text: String) -> Bool {
            if let first = text.utf8.first, first > 0x20, first < 0x7F { return true }
            return text.contains(where: { !$0.isWhitespace })
        }

        /// Control characters (general category Cc): for ASCII text, bytes below 0x20 and DEL.
        static func containsControlCharacters(_ text: String) -> Bool {
            var ascii = true
            for byte in text.utf8 {
                if byte < 0x20 || byte == 0x7F { return true }
                if byte >= 0x80 { ascii = false; break }
            }
            return !ascii && text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        }

        /// Whether `text` has at most `limit` characters, without counting long strings whole.
        private func fits(_ text: String, _ limit: Int) -> Bool {
            text.utf8.count <= limit || text.count <= limit
        }
    }
}
