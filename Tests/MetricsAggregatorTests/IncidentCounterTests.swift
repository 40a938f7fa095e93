import Foundation
import Testing
@testable import MetricsAggregator

@Suite("Counting incident revisions")
struct IncidentCounterTests {
    static let utc = WindowCalendar(timeZone: TimeZone(identifier: "UTC")!)

    static func incident(_ id: UUID, revision: Int, category: String = "theft", area: String = "a", day: Int = 1) -> CountedIncident {
        CountedIncident(
            id: id, revision: revision, occurredAt: Date(timeIntervalSince1970: 1_740_787_200 + Double(day) * 86_400 + 3600), area: area,
            category: category, group: category == "assault" ? "person" : "property")
    }

    static func dayCounts(_ counter: IncidentCounter) -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for (key, delta) in counter.netDeltas where key.granularity == .day { counts[key.dimensions.key + "@" + MetricTime.string(key.start)] = delta }
        return counts
    }

    @Test("a revision that changes the category moves the count; the total stays")
    func categoryChange() {
        var counter = IncidentCounter(cache: WindowCache(calendar: Self.utc))
        let id = UUID()
        counter.apply(Self.incident(id, revision: 1), previous: nil)
        counter.apply(Self.incident(id, revision: 2, category: "assault"), previous: nil)
        let counts = Self.dayCounts(counter)
        #expect(counts["a/assault@2025-03-02T00:00:00Z"] == 1)
        #expect(counts["a/theft@2025-03-02T00:00:00Z"] == nil, "netted to zero within the batch")
        #expect(counts["a/*@2025-03-02T00:00:00Z"] == 1)
        #expect(counts["*/*/person@2025-03-02T00:00:00Z"] == 1)
        #expect(counts["*/*/property@2025-03-02T00:00:00Z"] == nil)

        // Against state stored by an earlier batch: subtract there, add here.
        var later = IncidentCounter(cache: WindowCache(calendar: Self.utc))
        later.apply(Self.incident(id, revision: 3, category: "assault", day: 5), previous: Self.incident(id, revision: 2, category: "theft"))
        let moved = Self.dayCounts(later)
        #expect(moved["a/theft@2025-03-02T00:00:00Z"] == -1)
        #expect(moved["a/assault@2025-03-06T00:00:00Z"] == 1)
        #expect(moved["*/*@2025-03-02T00:00:00Z"] == -1 && moved["*/*@2025-03-06T00:00:00Z"] == 1)
    }

    @Test("duplicates and overtaken revisions change nothing, in any arrival order")
    func duplicatesAndOrder() {
        let id = UUID()
        let revisions = [Self.incident(id, revision: 1), Self.incident(id, revision: 2, area: "b"), Self.incident(id, revision: 3, category: "assault")]
        var expected: [String: Int64]?
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 0, 2, 2, 1, 1], [2, 0, 2, 1]] {
            var counter = IncidentCounter(cache: WindowCache(calendar: Self.utc))
            for index in order { counter.apply(revisions[index], previous: nil) }
            let counts = Self.dayCounts(counter)
            #expect(counts["b/assault@2025-03-02T00:00:00Z"] == nil && counts["a/assault@2025-03-02T00:00:00Z"] == 1, "\(order)")
            if let expected { #expect(counts == expected, "\(order)") } else { expected = counts }
        }
        var again = IncidentCounter(cache: WindowCache(calendar: Self.utc))
        let older = again.apply(revisions[1], previous: revisions[2])
        let same = again.apply(revisions[2], previous: revisions[2])
        #expect(!older && !same)
        #expect(again.netDeltas.isEmpty)
    }
}
