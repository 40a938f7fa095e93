import Contracts
import Testing

@Suite("Taxonomy v1")
struct TaxonomyTests {
    /// SPEC §4.2, in the order the specification lists them.
    static let specCodes = [
        "homicide", "assault", "sex_offense", "domestic_violence", "robbery", "burglary", "theft",
        "motor_vehicle_theft", "arson", "vandalism", "fraud", "drug", "weapons", "disorder", "noise",
        "traffic", "suspicious_activity", "mental_health_crisis", "missing_person", "animal",
        "public_health", "other",
    ]

    @Test("every code of the specification is present exactly once, and nothing else")
    func codesMatchSpecification() {
        let codes = IncidentCategory.allCases.map(\.rawValue)
        #expect(codes == Self.specCodes)
        #expect(Set(codes).count == 22)
        #expect(IncidentCategory.taxonomyVersion == 1)
    }

    @Test("groups follow NIBRS crimes-against")
    func groups() {
        let expected: [CategoryGroup: Set<String>] = [
            .person: ["homicide", "assault", "sex_offense", "domestic_violence"],
            .property: ["robbery", "burglary", "theft", "motor_vehicle_theft", "arson", "vandalism", "fraud"],
            .society: ["drug", "weapons", "disorder"],
            .nonCriminal: [
                "noise", "traffic", "suspicious_activity", "mental_health_crisis", "missing_person", "animal",
                "public_health", "other",
            ],
        ]
        for group in CategoryGroup.allCases {
            #expect(Set(group.categories.map(\.rawValue)) == expected[group], "\(group)")
        }
        #expect(CategoryGroup.allCases.map(\.rawValue) == ["person", "property", "society", "non_criminal"])
    }

    @Test("only sex_offense and domestic_violence are sensitive")
    func sensitive() {
        #expect(Set(IncidentCategory.allCases.filter(\.isSensitive)) == [.sexOffense, .domesticViolence])
    }

    @Test("default severities lie in 1...5 and rank homicide highest")
    func severities() {
        for category in IncidentCategory.allCases {
            #expect((1...5).contains(category.defaultSeverity), "\(category)")
        }
        #expect(IncidentCategory.homicide.defaultSeverity == 5)
        #expect(IncidentCategory.allCases.filter { $0.defaultSeverity == 5 } == [.homicide])
        #expect(IncidentCategory.assault.defaultSeverity == 4)
        #expect(IncidentCategory.burglary.defaultSeverity == 3)
        #expect(IncidentCategory.theft.defaultSeverity == 2)
        #expect(IncidentCategory.noise.defaultSeverity == 1)
        #expect(IncidentCategory.other.defaultSeverity == 1)
    }

    @Test(
        "a label that is a canonical code maps to it, trimmed and case-insensitively",
        arguments: [
            ("theft", IncidentCategory.theft), (" Sex_Offense ", .sexOffense), ("OTHER", .other),
            ("\tmotor_vehicle_theft\n", .motorVehicleTheft),
        ])
    func codeLabels(label: String, category: IncidentCategory) {
        #expect(IncidentCategory(code: label) == category)
    }

    @Test("labels that are not codes do not map", arguments: ["", "  ", "Sex Offense", "sex-offense", "Theft of Property"])
    func nonCodeLabels(label: String) {
        #expect(IncidentCategory(code: label) == nil)
    }
}
