import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion
@testable import MetricsAggregator

@Suite("Hotspot rule")
struct HotspotRuleTests {
    @Test("Poisson upper tail matches closed forms")
    func poisson() {
        // P(X ≥ 5 | λ = 1) = 1 − e⁻¹ (1 + 1 + 1/2 + 1/6 + 1/24)
        let series: Double = 1 + 1 + 0.5 + 1.0 / 6 + 1.0 / 24
        let closedForm: Double = 1 - exp(-1.0) * series
        let computed = PoissonTail.probability(atLeast: 5, mean: 1)
        #expect(abs(computed - closedForm) < 1e-12)
        #expect(PoissonTail.probability(atLeast: 0, mean: 3) == 1)
        #expect(PoissonTail.probability(atLeast: 1, mean: 0) == 0)
        let atLeastOne: Double = 1 - exp(-2.0)
        #expect(abs(PoissonTail.probability(atLeast: 1, mean: 2) - atLeastOne) < 1e-12)
        let tiny = PoissonTail.probability(atLeast: 60, mean: 2)
        #expect(tiny > 0 && tiny < 1e-40)
    }

    @Test("at least 5, p < 0.01, against the baseline the aggregator has actually seen")
    func rule() throws {
        let rule = HotspotRule()
        let now = try Date.ISO8601FormatStyle().parse("2025-03-31T00:00:00Z")
        let longAgo = now.addingTimeInterval(-400 * 86_400)
        // 4 in a week is never enough, however quiet the cell was.
        #expect(rule.evaluate(recent: 4, earlier: 0, at: now, firstSeen: longAgo)?.significant == false)
        // 8 a week against 8 a week over 28 days (32) is normal.
        #expect(rule.evaluate(recent: 8, earlier: 32, at: now, firstSeen: longAgo)?.significant == false)
        // 12 against an expected 2: significant.
        let spike = try #require(rule.evaluate(recent: 12, earlier: 8, at: now, firstSeen: longAgo))
        #expect(spike.significant && spike.expected == 2)
        // Two weeks of history: the baseline is a one-week rate over one week, not diluted.
        let young = try #require(rule.evaluate(recent: 9, earlier: 8, at: now, firstSeen: now.addingTimeInterval(-14 * 86_400)))
        #expect(young.expected == 8 && !young.significant)
        // Tested among many cells, p = 0.0045 is what chance produces; p ≈ 1e-6 is not.
        let borderline = try #require(rule.evaluate(recent: 7, earlier: 8, at: now, firstSeen: longAgo))
        #expect(borderline.significant && borderline.pValue > 0.004 && borderline.pValue < 0.005)
        #expect(!rule.significant(borderline, activeCells: 100))
        #expect(rule.significant(borderline, activeCells: 1))
        #expect(rule.significant(spike, activeCells: 1000))
        // Less than a week of baseline: no judgement.
        #expect(rule.evaluate(recent: 50, earlier: 0, at: now, firstSeen: now.addingTimeInterval(-10 * 86_400)) == nil)
    }
}

/// The incidents of a real month of New York 311 animal complaints, spread evenly over six
/// weeks, as the background, fed through the
/// aggregator's store in PostgreSQL: alone it raises no hotspot; with a synthetic spike
/// injected into one of its cells, exactly one episode, in that cell.
@Suite("Hotspots on a real background", .serialized)
struct HotspotBackgroundTests {
    static func message(_ offset: Int64, topic: String) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: 0, offset: offset, key: nil, value: [], headers: [], timestamp: nil)
    }

    @Test("the NYC 311 background raises none; a spike of 15 in one cell is one episode in that cell")
    func spike() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try MetricsFixtures.connect(databaseURL)
            defer { postgres.shutdown() }
            try await MetricsFixtures.importNYC(postgres)
            // The real incidents (locations, areas, categories) spread evenly over 42 days:
            // a stationary background. The month as recorded is not one: its occurrence
            // times bunch in March (complaints created that month) and it holds genuine
            // clusters (13 complaints at one address on one day), which the rule rightly flags.
            var random = SeededRandom(seed: 61)
            let start = try Date.ISO8601FormatStyle().parse("2025-02-01T00:00:00Z")
            var background: [CanonicalIncident] = []
            for row in try await postgres.query("SELECT document::text FROM incidents ORDER BY id") {
                var incident = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(try row.decode(0, as: String.self).utf8))
                incident.occurredAt = start.addingTimeInterval(Double(random.next() % (42 * 86_400)))
                background.append(incident)
            }
            #expect(background.count > 1000)

            let store = MetricsStore(
                postgres: postgres, consumer: "hotspot-test", calendar: WindowCalendar(timeZone: TimeZone(identifier: "America/New_York")!),
                grace: .seconds(7 * 86_400), logger: TestEnvironment.logger)
            var offset: Int64 = 0
            func feed(_ incidents: [CanonicalIncident]) async throws {
                for chunk in stride(from: 0, to: incidents.count, by: 500) {
                    let batch = incidents[chunk..<min(chunk + 500, incidents.count)].map { incident in
                        defer { offset += 1 }
                        return DecodedRecord(message: Self.message(offset, topic: "background"), input: .incident(CountedIncident(incident)))
                    }
                    try await store.apply(batch, now: try Date.ISO8601FormatStyle().parse("2025-04-02T00:00:00Z"))
                }
            }
            try await feed(background)
            let afterBackground = try await postgres.query("SELECT count(*) FROM metric_hotspot_episodes").first!.decode(0, as: Int.self)
            #expect(afterBackground == 0, "the background alone raises no hotspot")

            // The spike: 15 incidents over the last three days in a cell that has its own history.
            var cellCounts: [String: Int] = [:]
            for incident in background { if let cell = incident.cell { cellCounts[String(cell.prefix(6)), default: 0] += 1 } }
            let cell = try #require(cellCounts.filter { $0.value >= 3 && $0.value <= 10 }.keys.sorted().first)
            let template = try #require(background.first { $0.cell.map { String($0.prefix(6)) } == cell })
            let end = try #require(background.map(\.occurredAt).max())
            let spike = (0..<15).map { index in
                var incident = template
                incident.id = UUID()
                incident.revision = 1
                incident.cell = cell + "0"
                incident.occurredAt = end.addingTimeInterval(-Double(index) * 4 * 3600)
                return incident
            }
            try await feed(spike)
            let episodes = try await postgres.query("SELECT DISTINCT episode_id, cell FROM metric_hotspot_episodes").map { try $0.decode((UUID, String).self) }
            #expect(episodes.count == 1)
            #expect(episodes.first?.1 == cell)
            let published = try await postgres.query("""
                SELECT payload FROM outbox WHERE topic = 'metrics.hotspots' ORDER BY id
                """).map { try CoalitionJSON.decoder.decode(HotspotEpisode.self, from: Data(try $0.decode(0, as: [UInt8].self))) }
            #expect(published.first?.phase == .start)
            #expect(published.allSatisfy { $0.cell == cell && $0.episodeId == episodes.first?.0 })
            #expect(published.first.map { $0.count7d >= 15 && $0.pValue < 0.01 } == true)
        }
    }
}
