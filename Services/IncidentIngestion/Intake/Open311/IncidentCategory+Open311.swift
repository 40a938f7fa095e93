import Contracts

extension IncidentCategory {
    /// The human name a GeoReport client shows for this service (`service_name`).
    var open311Name: String {
        switch self {
        case .homicide: "Homicide"
        case .assault: "Assault"
        case .sexOffense: "Sex offense"
        case .domesticViolence: "Domestic violence"
        case .robbery: "Robbery"
        case .burglary: "Burglary"
        case .theft: "Theft"
        case .motorVehicleTheft: "Motor vehicle theft"
        case .arson: "Arson"
        case .vandalism: "Vandalism"
        case .fraud: "Fraud"
        case .drug: "Drugs"
        case .weapons: "Weapons"
        case .disorder: "Disorder"
        case .noise: "Noise"
        case .traffic: "Traffic"
        case .suspiciousActivity: "Suspicious activity"
        case .mentalHealthCrisis: "Mental health crisis"
        case .missingPerson: "Missing person"
        case .animal: "Animal"
        case .publicHealth: "Public health"
        case .other: "Other"
        }
    }

    /// One sentence a GeoReport client can show under the name (`description` of a service).
    var open311Description: String {
        switch self {
        case .homicide: "A person was killed."
        case .assault: "A person was attacked or threatened with violence."
        case .sexOffense: "A sexual offense; its location and description are never published."
        case .domesticViolence: "Violence within a household or relationship; its location and description are never published."
        case .robbery: "Property taken from a person by force or threat."
        case .burglary: "Unlawful entry into a building to commit a crime."
        case .theft: "Property taken without force or entry."
        case .motorVehicleTheft: "A vehicle was stolen."
        case .arson: "A fire was set on purpose."
        case .vandalism: "Property was damaged or defaced."
        case .fraud: "Deception for gain: scams, forgery, identity theft."
        case .drug: "Sale or use of illegal drugs."
        case .weapons: "Unlawful carrying or use of a weapon."
        case .disorder: "Public disorder: fights, loitering, public intoxication."
        case .noise: "Noise from people, vehicles, venues or construction."
        case .traffic: "Traffic hazards, collisions and dangerous driving."
        case .suspiciousActivity: "Activity that seems suspicious and may need a look."
        case .mentalHealthCrisis: "A person in a mental health crisis who needs help."
        case .missingPerson: "A person is missing."
        case .animal: "Animals in distress, abused, dangerous or loose."
        case .publicHealth: "Conditions that threaten public health."
        case .other: "Anything that fits no other service."
        }
    }
}
