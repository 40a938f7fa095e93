/// The canonical incident categories of taxonomy v1 (SPEC §4.2). Every source's own labels
/// map onto these; the raw values are the wire codes and never change within a version.
/// Adding, removing or regrouping a code is a new taxonomy version, not an edit.
public enum IncidentCategory: String, CaseIterable, Codable, Sendable {
    case homicide
    case assault
    case sexOffense = "sex_offense"
    case domesticViolence = "domestic_violence"
    case robbery
    case burglary
    case theft
    case motorVehicleTheft = "motor_vehicle_theft"
    case arson
    case vandalism
    case fraud
    case drug
    case weapons
    case disorder
    case noise
    case traffic
    case suspiciousActivity = "suspicious_activity"
    case mentalHealthCrisis = "mental_health_crisis"
    case missingPerson = "missing_person"
    case animal
    case publicHealth = "public_health"
    case other

    /// The version stamped on every canonical incident as `taxonomy_version`.
    public static let taxonomyVersion = 1

    /// A label that already is a canonical code (compared trimmed and case-insensitively),
    /// e.g. `" Sex_Offense "`; `nil` for anything else. This is the self-mapping of SPEC §4.2,
    /// applied when a source's mapping table has no entry for the label.
    public init?(code label: String) {
        let trimmed = label.trimmingWhitespace()
        guard !trimmed.isEmpty, let category = Self(rawValue: trimmed.lowercased()) else { return nil }
        self = category
    }

    /// The crimes-against group, after NIBRS (see `CategoryGroup`).
    public var group: CategoryGroup {
        switch self {
        case .homicide, .assault, .sexOffense, .domesticViolence:
            .person
        case .robbery, .burglary, .theft, .motorVehicleTheft, .arson, .vandalism, .fraud:
            .property
        case .drug, .weapons, .disorder:
            .society
        case .noise, .traffic, .suspiciousActivity, .mentalHealthCrisis, .missingPerson, .animal, .publicHealth, .other:
            .nonCriminal
        }
    }

    /// Severity 1 (lowest) to 5 used when the source sends none.
    ///
    /// The scale follows harm to people first, then loss, then nuisance:
    /// - 5: loss of life (`homicide`).
    /// - 4: violence or its immediate threat against a person, or a danger to life
    ///   (`assault`, `sex_offense`, `domestic_violence`, `robbery`, `weapons`, `arson`).
    /// - 3: serious intrusion or loss, or a person at risk who needs a timely response
    ///   (`burglary`, `motor_vehicle_theft`, `missing_person`, `mental_health_crisis`).
    /// - 2: property loss or damage, and conditions that warrant follow-up
    ///   (`theft`, `vandalism`, `fraud`, `drug`, `suspicious_activity`, `public_health`, `traffic`).
    /// - 1: quality-of-life matters and anything unclassified
    ///   (`disorder`, `noise`, `animal`, `other`).
    ///
    /// A source's own severity always wins; this is only the default.
    public var defaultSeverity: Int {
        switch self {
        case .homicide:
            5
        case .assault, .sexOffense, .domesticViolence, .robbery, .weapons, .arson:
            4
        case .burglary, .motorVehicleTheft, .missingPerson, .mentalHealthCrisis:
            3
        case .theft, .vandalism, .fraud, .drug, .suspiciousActivity, .publicHealth, .traffic:
            2
        case .disorder, .noise, .animal, .other:
            1
        }
    }

    /// Sensitive incidents keep their exact location and description inside the
    /// law-enforcement scope (SPEC §6); everyone else sees them generalised to the area.
    public var isSensitive: Bool {
        switch self {
        case .sexOffense, .domesticViolence: true
        default: false
        }
    }
}

/// The `category_group` of a canonical incident, after NIBRS' "crimes against" grouping.
///
/// NIBRS classifies offences as crimes against persons, property or society; the taxonomy
/// follows it where a category is an offence:
/// - `person`: `homicide`, `assault`, `sex_offense`, `domestic_violence` (NIBRS persons;
///   domestic violence is an assault by relationship, so it stays with persons).
/// - `property`: `robbery`, `burglary`, `theft`, `motor_vehicle_theft`, `arson`, `vandalism`,
///   `fraud` (NIBRS lists robbery under property: its object is to take something).
/// - `society`: `drug`, `weapons`, `disorder` (victimless offences against society's
///   prohibitions; NIBRS puts drug/narcotic and weapon law violations there).
/// - `non_criminal`: categories that are not offences in themselves and that NIBRS does not
///   group — `noise`, `traffic`, `suspicious_activity`, `mental_health_crisis`,
///   `missing_person`, `animal`, `public_health` and `other`.
public enum CategoryGroup: String, CaseIterable, Codable, Sendable {
    case person
    case property
    case society
    case nonCriminal = "non_criminal"

    /// The categories in this group, in taxonomy order.
    public var categories: [IncidentCategory] {
        IncidentCategory.allCases.filter { $0.group == self }
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring {
        guard let start = firstIndex(where: { !$0.isWhitespace }),
            let end = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return self[start...end]
    }
}
