import Contracts
import Foundation
import ServiceKit

/// What an operator may send to create a stakeholder (SPEC §10), validated. Every problem is
/// reported at once, each with a JSON pointer-like field name, so the answer is one 422.
public struct StakeholderInput: Sendable, Equatable {
    public struct Channel: Sendable, Equatable {
        public var type: ChannelType
        public var address: String
    }

    public var name: String
    public var role: StakeholderRole
    public var organization: String?
    public var timezone: String
    public var channels: [Channel]

    public typealias FieldError = ProblemDetails.FieldError

    /// Parses a decoded JSON object. `allowHTTPWebhooks` is the operator's setting for plain-http targets.
    public static func parse(_ json: Any, allowHTTPWebhooks: Bool) -> Result<StakeholderInput, FieldErrors> {
        guard let object = json as? [String: Any] else {
            return .failure(FieldErrors([.init(field: "", code: "wrong_type", message: "the body must be a JSON object")]))
        }
        var errors: [FieldError] = []
        let name = (object["name"] as? String)?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty || name.count > 200 {
            errors.append(.init(field: "name", code: name.isEmpty ? "required" : "too_long", message: "name is required, at most 200 characters"))
        }
        let role = (object["role"] as? String).flatMap(StakeholderRole.init(rawValue:))
        if role == nil {
            errors.append(.init(field: "role", code: object["role"] == nil || object["role"] is NSNull ? "required" : "unknown_role",
                                message: "role must be one of \(StakeholderRole.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        let organization = object["organization"] as? String
        if object["organization"] != nil, !(object["organization"] is NSNull), organization == nil {
            errors.append(.init(field: "organization", code: "wrong_type", message: "organization must be a string"))
        }
        let timezone = object["timezone"] == nil || object["timezone"] is NSNull ? "UTC" : object["timezone"] as? String ?? ""
        if TimeZone(identifier: timezone) == nil {
            errors.append(.init(field: "timezone", code: "unknown_timezone", message: "timezone must be an IANA time zone such as Europe/London"))
        }
        var channels: [Channel] = []
        if let list = object["channels"] as? [Any] {
            for (index, item) in list.enumerated() {
                switch parseChannel(item, field: "channels/\(index)", allowHTTPWebhooks: allowHTTPWebhooks) {
                case .success(let channel): channels.append(channel)
                case .failure(let channelErrors): errors += channelErrors.errors
                }
            }
        } else if object["channels"] != nil {
            errors.append(.init(field: "channels", code: "wrong_type", message: "channels must be an array"))
        }
        for (field, text) in [("name", name), ("organization", organization ?? ""), ("timezone", timezone)] where hasNUL(text) {
            errors.append(.init(field: field, code: "invalid_characters", message: "\(field) must not contain NUL characters"))
        }
        guard errors.isEmpty, let role else { return .failure(FieldErrors(errors)) }
        return .success(StakeholderInput(name: name, role: role, organization: organization, timezone: timezone, channels: channels))
    }

    public static func parseChannel(_ json: Any, field: String, allowHTTPWebhooks: Bool) -> Result<Channel, FieldErrors> {
        guard let object = json as? [String: Any], let typeName = object["type"] as? String else {
            return .failure(FieldErrors([.init(field: field + "/type", code: "required", message: "a channel needs a type: webhook, email or sms")]))
        }
        for (key, value) in object {
            if let text = value as? String, hasNUL(text) {
                return .failure(FieldErrors([.init(field: field + "/" + key, code: "invalid_characters", message: "\(key) must not contain NUL characters")]))
            }
        }
        switch ChannelType(rawValue: typeName) {
        case .webhook:
            let url = object["url"] as? String ?? ""
            if let problem = webhookProblem(url, allowHTTP: allowHTTPWebhooks) {
                return .failure(FieldErrors([.init(field: field + "/url", code: problem.code, message: problem.message)]))
            }
            return .success(Channel(type: .webhook, address: url))
        case .email:
            let address = object["address"] as? String ?? ""
            guard isEmailAddress(address) else {
                return .failure(FieldErrors([.init(field: field + "/address", code: "invalid_email", message: "address must be an email address such as name@example.org")]))
            }
            return .success(Channel(type: .email, address: address))
        case .sms:
            let number = object["number"] as? String ?? ""
            guard isE164(number) else {
                return .failure(FieldErrors([.init(field: field + "/number", code: "invalid_e164",
                                       message: "number must be in E.164 form: + then up to 15 digits, no leading zero (e.g. +447700900123)")]))
            }
            return .success(Channel(type: .sms, address: number))
        case nil:
            return .failure(FieldErrors([.init(field: field + "/type", code: "unknown_channel_type", message: "type must be webhook, email or sms")]))
        }
    }

    /// `nil` when `url` is an acceptable webhook target URL (the address it resolves to is
    /// checked again at delivery time).
    static func webhookProblem(_ url: String, allowHTTP: Bool) -> (code: String, message: String)? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty else {
            return ("invalid_url", "url must be an absolute https URL")
        }
        guard scheme == "https" || scheme == "http" else { return ("invalid_url", "url must be an absolute https URL") }
        if components.user != nil || components.password != nil {
            return ("invalid_url", "url must not carry credentials")
        }
        if scheme == "http", !allowHTTP {
            return ("https_required", "url must use https (plain http is allowed only when the operator enables it)")
        }
        return nil
    }

    static func isE164(_ number: String) -> Bool {
        let digits = number.utf8.dropFirst()
        return number.hasPrefix("+") && (2...15).contains(digits.count) && digits.allSatisfy { (0x30...0x39).contains($0) }
            && digits.first != 0x30
    }

    static func isEmailAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, address.count <= 254 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
            && !address.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0 == ";" || $0.asciiValue.map { $0 < 32 } == true })
    }
}

/// A subscription as sent (SPEC §10), validated for shape; the directory then checks what only
/// the database knows (the stakeholder, its channels, the areas).
public struct SubscriptionInput: Sendable, Equatable {
    public var stakeholderId: UUID
    public var areas: [String]?
    public var circle: Subscription.Circle?
    public var categories: [IncidentCategory]?
    public var categoryGroups: [CategoryGroup]?
    public var minSeverity: Int
    public var channelIds: [UUID]
    public var mode: Subscription.Mode
    public var quietHours: Subscription.QuietHours?
    public var notifyClosure: Bool

    /// Largest circle radius: 50 km, a city, not a region.
    public static let maximumRadius = 50_000.0

    public static func parse(_ json: Any) -> Result<SubscriptionInput, FieldErrors> {
        guard let object = json as? [String: Any] else {
            return .failure(FieldErrors([.init(field: "", code: "wrong_type", message: "the body must be a JSON object")]))
        }
        var errors: [ProblemDetails.FieldError] = []
        let stakeholderId = (object["stakeholder_id"] as? String).flatMap(UUID.init(uuidString:))
        if stakeholderId == nil {
            errors.append(.init(field: "stakeholder_id", code: object["stakeholder_id"] == nil ? "required" : "invalid_uuid", message: "stakeholder_id must be a stakeholder's id"))
        }
        var areas: [String]?
        if let value = object["areas"], !(value is NSNull) {
            if let list = value as? [String], !list.isEmpty, !list.contains(where: hasNUL), list.allSatisfy({ !$0.isEmpty && $0.count <= 200 }) {
                areas = list
            } else {
                errors.append(.init(field: "areas", code: "wrong_type", message: "areas must be a non-empty array of area ids (1 to 200 characters, no NUL)"))
            }
        }
        var circle: Subscription.Circle?
        if let value = object["circle"], !(value is NSNull) {
            if let c = value as? [String: Any], let lat = (c["lat"] as? NSNumber)?.doubleValue, let lon = (c["lon"] as? NSNumber)?.doubleValue,
               let radius = (c["radius_m"] as? NSNumber)?.doubleValue {
                if !(-90...90).contains(lat) { errors.append(.init(field: "circle/lat", code: "out_of_range", message: "lat must be between -90 and 90")) }
                if !(-180...180).contains(lon) { errors.append(.init(field: "circle/lon", code: "out_of_range", message: "lon must be between -180 and 180")) }
                if !(radius > 0 && radius <= maximumRadius) {
                    errors.append(.init(field: "circle/radius_m", code: "out_of_range", message: "radius_m must be more than 0 and at most 50000 (50 km)"))
                }
                circle = .init(lat: lat, lon: lon, radiusM: radius)
            } else {
                errors.append(.init(field: "circle", code: "wrong_type", message: "circle must be {\"lat\", \"lon\", \"radius_m\"} with numbers"))
            }
        }
        var categories: [IncidentCategory]?
        if let value = object["categories"], !(value is NSNull) {
            let list = value as? [String] ?? []
            let parsed = list.compactMap(IncidentCategory.init(rawValue:))
            if list.isEmpty || parsed.count != list.count {
                errors.append(.init(field: "categories", code: "unknown_category",
                                    message: "categories must be a non-empty array of taxonomy v1 codes; unknown: \(list.filter { IncidentCategory(rawValue: $0) == nil }.joined(separator: ", "))"))
            } else { categories = parsed }
        }
        var groups: [CategoryGroup]?
        if let value = object["category_groups"], !(value is NSNull) {
            let list = value as? [String] ?? []
            let parsed = list.compactMap(CategoryGroup.init(rawValue:))
            if list.isEmpty || parsed.count != list.count {
                errors.append(.init(field: "category_groups", code: "unknown_category_group",
                                    message: "category_groups must be a non-empty array of person, property, society, non_criminal"))
            } else { groups = parsed }
        }
        var minSeverity = 1
        if let value = object["min_severity"] {
            if let number = value as? Int, (1...5).contains(number) { minSeverity = number } else {
                errors.append(.init(field: "min_severity", code: "out_of_range", message: "min_severity must be an integer from 1 to 5"))
            }
        }
        var channelIds: [UUID] = []
        if let list = object["channel_ids"] as? [String], !list.isEmpty, list.allSatisfy({ UUID(uuidString: $0) != nil }) {
            channelIds = list.compactMap(UUID.init(uuidString:))
        } else {
            errors.append(.init(field: "channel_ids", code: object["channel_ids"] == nil ? "required" : "wrong_type",
                                message: "channel_ids must list at least one of the stakeholder's channel ids"))
        }
        var mode = Subscription.Mode.immediate
        if let value = object["mode"] {
            if let parsed = (value as? String).flatMap(Subscription.Mode.init(rawValue:)) { mode = parsed } else {
                errors.append(.init(field: "mode", code: "unknown_mode", message: "mode must be immediate, digest_hourly or digest_daily"))
            }
        }
        var quietHours: Subscription.QuietHours?
        if let value = object["quiet_hours"], !(value is NSNull) {
            if let q = value as? [String: Any], let start = q["start"] as? String, let end = q["end"] as? String,
               LocalTimeOfDay(start) != nil, LocalTimeOfDay(end) != nil, start != end {
                quietHours = .init(start: start, end: end)
            } else {
                errors.append(.init(field: "quiet_hours", code: "invalid_quiet_hours", message: "quiet_hours must be {\"start\": \"HH:MM\", \"end\": \"HH:MM\"} with different times"))
            }
        }
        var notifyClosure = false
        if let value = object["notify_closure"] {
            if let flag = value as? Bool { notifyClosure = flag } else {
                errors.append(.init(field: "notify_closure", code: "wrong_type", message: "notify_closure must be true or false"))
            }
        }
        guard errors.isEmpty, let stakeholderId else { return .failure(FieldErrors(errors)) }
        return .success(SubscriptionInput(
            stakeholderId: stakeholderId, areas: areas, circle: circle, categories: categories, categoryGroups: groups,
            minSeverity: minSeverity, channelIds: channelIds, mode: mode, quietHours: quietHours, notifyClosure: notifyClosure))
    }
}

/// PostgreSQL text cannot hold U+0000; such input is refused rather than altered.
func hasNUL(_ text: String) -> Bool {
    text.unicodeScalars.contains { $0.value == 0 }
}

/// "HH:MM", 00:00–23:59, as minutes after midnight.
public struct LocalTimeOfDay: Sendable, Equatable, Comparable {
    public var minutes: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        minutes = hour * 60 + minute
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.minutes < rhs.minutes }
}

/// Every problem found in one input, reported together as one 422.
public struct FieldErrors: Error, Sendable, Equatable {
    public var errors: [ProblemDetails.FieldError]
    public init(_ errors: [ProblemDetails.FieldError]) { self.errors = errors }
}
