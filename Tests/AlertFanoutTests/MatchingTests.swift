import Contracts
import Foundation
import Testing
import TestSupport
@testable import AlertFanout

/// Matching semantics as a table: place (areas, circles across area borders, everywhere),
/// what (categories vs groups), severity; and that the index looks at few subscriptions.
@Suite("Matching")
struct MatchingTests {
    // Times Square and a point ~1.1 km north of it (Central Park South), in different areas.
    static let timesSquare = (lat: 40.7580, lon: -73.9855)
    static let parkSouth = (lat: 40.7678, lon: -73.9812)

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var entry: @Sendable () -> SubscriptionIndex.Entry
        var incident: @Sendable () -> CanonicalIncident
        var matches: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "area subscription, incident in that area", entry: { Fixtures.entry(areas: ["midtown"]) },
             incident: { Fixtures.incident(area: "midtown") }, matches: true),
        Case(name: "area subscription, incident elsewhere", entry: { Fixtures.entry(areas: ["midtown"]) },
             incident: { Fixtures.incident(area: "harlem") }, matches: false),
        Case(name: "one of several areas", entry: { Fixtures.entry(areas: ["harlem", "midtown"]) },
             incident: { Fixtures.incident(area: "midtown") }, matches: true),
        Case(name: "no place given means everywhere", entry: { Fixtures.entry() },
             incident: { Fixtures.incident(area: "unassigned", lat: nil, lon: nil) }, matches: true),
        Case(name: "circle contains a point in another area (circles ignore borders)",
             entry: { Fixtures.entry(circle: .init(lat: timesSquare.lat, lon: timesSquare.lon, radiusM: 1500)) },
             incident: { Fixtures.incident(area: "central-park", lat: parkSouth.lat, lon: parkSouth.lon) }, matches: true),
        Case(name: "circle too small for the point",
             entry: { Fixtures.entry(circle: .init(lat: timesSquare.lat, lon: timesSquare.lon, radiusM: 1000)) },
             incident: { Fixtures.incident(area: "central-park", lat: parkSouth.lat, lon: parkSouth.lon) }, matches: false),
        Case(name: "circle, incident without coordinates",
             entry: { Fixtures.entry(circle: .init(lat: timesSquare.lat, lon: timesSquare.lon, radiusM: 50_000)) },
             incident: { Fixtures.incident(lat: nil, lon: nil) }, matches: false),
        Case(name: "circle across a grid-cell edge (40.75° is an edge)",
             entry: { Fixtures.entry(circle: .init(lat: 40.7499, lon: -73.99, radiusM: 500)) },
             incident: { Fixtures.incident(lat: 40.7510, lon: -73.99) }, matches: true),
        Case(name: "circle across the antimeridian",
             entry: { Fixtures.entry(circle: .init(lat: -16.5, lon: 179.99, radiusM: 5000)) },
             incident: { Fixtures.incident(lat: -16.5, lon: -179.99) }, matches: true),
        Case(name: "areas or circle: the area alone suffices",
             entry: { Fixtures.entry(areas: ["midtown"], circle: .init(lat: 0.5, lon: 0.5, radiusM: 100)) },
             incident: { Fixtures.incident(area: "midtown") }, matches: true),
        Case(name: "category listed", entry: { Fixtures.entry(categories: [.theft, .burglary]) },
             incident: { Fixtures.incident(category: .burglary) }, matches: true),
        Case(name: "category not listed", entry: { Fixtures.entry(categories: [.theft]) },
             incident: { Fixtures.incident(category: .noise) }, matches: false),
        Case(name: "group covers its categories", entry: { Fixtures.entry(groups: [.property]) },
             incident: { Fixtures.incident(category: .motorVehicleTheft) }, matches: true),
        Case(name: "group excludes others", entry: { Fixtures.entry(groups: [.person]) },
             incident: { Fixtures.incident(category: .noise) }, matches: false),
        Case(name: "categories or groups: either suffices", entry: { Fixtures.entry(categories: [.noise], groups: [.person]) },
             incident: { Fixtures.incident(category: .assault) }, matches: true),
        Case(name: "severity below the minimum", entry: { Fixtures.entry(minSeverity: 4) },
             incident: { Fixtures.incident(category: .noise, severity: 3) }, matches: false),
        Case(name: "severity at the minimum", entry: { Fixtures.entry(minSeverity: 4) },
             incident: { Fixtures.incident(category: .assault, severity: 4) }, matches: true),
    ]

    @Test("a subscription matches an incident", arguments: cases)
    func table(_ testCase: Case) {
        let index = SubscriptionIndex([testCase.entry()])
        #expect(index.matches(testCase.incident()) == (testCase.matches ? [0] : []))
    }

    @Test("many subscriptions: each incident finds exactly the brute-force answer")
    func agreesWithScan() {
        var generator = SeededRandom(seed: 7)
        let areas = (0..<40).map { "area-\($0)" }
        var entries: [SubscriptionIndex.Entry] = []
        for _ in 0..<3000 {
            let useCircle = generator.next() % 2 == 0
            let circle = useCircle ? Subscription.Circle(
                lat: 40.5 + Double(generator.next() % 1000) / 2000, lon: -74.2 + Double(generator.next() % 1000) / 2000,
                radiusM: Double(200 + generator.next() % 8000)) : nil
            let area = useCircle ? nil : [areas[Int(generator.next() % 40)]]
            let category = IncidentCategory.allCases[Int(generator.next() % UInt64(IncidentCategory.allCases.count))]
            entries.append(Fixtures.entry(areas: area, circle: circle, categories: generator.next() % 3 == 0 ? [category] : nil,
                                          minSeverity: Int(1 + generator.next() % 5)))
        }
        let index = SubscriptionIndex(entries)
        for _ in 0..<300 {
            let category = IncidentCategory.allCases[Int(generator.next() % UInt64(IncidentCategory.allCases.count))]
            let incident = Fixtures.incident(
                category: category, area: areas[Int(generator.next() % 40)], lat: 40.5 + Double(generator.next() % 1000) / 2000,
                lon: -74.2 + Double(generator.next() % 1000) / 2000, severity: Int(1 + generator.next() % 5))
            let scan = entries.indices.filter { position in
                let entry = entries[position]
                let subscription = entry.subscription
                let place: Bool
                if let circle = subscription.circle, let point = incident.location?.coordinate {
                    place = SubscriptionIndex.distanceMetres(point.lat, point.lon, circle.lat, circle.lon) <= circle.radiusM
                } else if let areas = subscription.areas {
                    place = areas.contains(incident.areaId)
                } else {
                    place = subscription.circle == nil
                }
                let what = subscription.categories.map { $0.contains(incident.category) } ?? true
                return place && what && incident.severity >= subscription.minSeverity
            }
            #expect(index.matches(incident) == scan)
        }
    }

    @Test("haversine distance: one degree of latitude is about 111 km")
    func distance() {
        let metres = SubscriptionIndex.distanceMetres(40, -74, 41, -74)
        #expect(abs(metres - 111_195) < 100)
    }
}
