import Contracts
import Foundation
import Kafka
import Testing
import TestSupport

/// `GET /v1/trends` against an independent count of the generated incidents, and windows
/// announced final once the watermark passes their end plus the grace period.
@Suite("Trends and final windows through the running aggregator", .serialized)
struct TrendsAndFinalityTests {
    static func time(_ text: String) -> Date { try! Date.ISO8601FormatStyle().parse(text) }

    @Test("week over week, 28 days and year to date equal counts over the incidents; a window passed by the watermark is re-announced final")
    func trendsAndFinality() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("metricstrend") + "."
            let topic = prefix + "incidents.normalized"
            try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix, extra: ["COALITION_METRICS_GRACE": "2h"])

                // Incidents downtown over 2024 and 2025, up to 20 March 2025 12:30 UTC.
                var random = SeededRandom(seed: 5)
                let firstDay = Self.time("2024-01-01T00:00:00Z")
                let last = Self.time("2025-03-20T12:30:00Z")
                var incidents: [CanonicalIncident] = []
                for _ in 0..<400 {
                    let occurred = firstDay.addingTimeInterval(Double(random.next() % UInt64(last.timeIntervalSince(firstDay))))
                    incidents.append(MetricsFixtures.incident(category: .theft, occurredAt: occurred))
                }
                incidents.append(MetricsFixtures.incident(category: .theft, occurredAt: last))
                try await MetricsFixtures.publish(try incidents.map { try MetricsFixtures.record($0, topic: topic) })
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: incidents.count, service: service)

                func count(_ from: String, _ to: String) -> Int {
                    let (start, end) = (Self.time(from), Self.time(to))
                    return incidents.filter { $0.occurredAt >= start && $0.occurredAt < end }.count
                }
                let expected: [(String, Int, Int)] = [
                    ("week_over_week", count("2025-03-14T00:00:00Z", "2025-03-21T00:00:00Z"), count("2025-03-07T00:00:00Z", "2025-03-14T00:00:00Z")),
                    ("last_28_days", count("2025-02-21T00:00:00Z", "2025-03-21T00:00:00Z"), count("2025-01-24T00:00:00Z", "2025-02-21T00:00:00Z")),
                    ("year_to_date", count("2025-01-01T00:00:00Z", "2025-03-21T00:00:00Z"), count("2024-01-01T00:00:00Z", "2024-03-21T00:00:00Z")),
                ]
                let report = try await MetricsFixtures.getJSON(service, "/v1/trends?area=downtown&category=theft&at=2025-03-20T15:00:00Z")
                #expect(report["reference_day"] as? String == "2025-03-20")
                for (name, current, previous) in expected {
                    let comparison = try #require(report[name] as? [String: Any], "\(name)")
                    #expect(comparison["current"] as? Int == current, "\(name)")
                    #expect(comparison["previous"] as? Int == previous, "\(name)")
                    if previous == 0 {
                        #expect(comparison["change"] is NSNull, "\(name)")
                    } else {
                        let change = comparison["change"] as? Double
                        #expect(change.map { abs($0 - Double(current - previous) / Double(previous)) < 1e-9 } == true, "\(name)")
                    }
                }
                // Public scope: figures between 1 and k − 1 are withheld. One day's comparison
                // with a single incident on it (20 March in a fresh area) shows null.
                try await MetricsFixtures.publish([try MetricsFixtures.record(MetricsFixtures.incident(category: .theft, area: "quiet", occurredAt: last), topic: topic)])
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: incidents.count + 1, service: service)
                let quiet = try await MetricsFixtures.getJSON(service, "/v1/trends?area=quiet&at=2025-03-20T15:00:00Z", operator: false)
                let quietWeek = try #require(quiet["week_over_week"] as? [String: Any])
                #expect(quietWeek["current"] is NSNull && quietWeek["suppressed"] as? Bool == true)
                let bad = try await HTTPProbe.exchange("GET", service.baseURL + "/v1/trends?at=tomorrow&category=nonsense")
                #expect(bad.status == 400)

                // Finality: the watermark is 12:30 and the grace 2 h, so the 12:00 hour window is
                // open. An incident at 15:00 moves the watermark: the 12:00 window (ending 13:00)
                // is announced final under a new revision, its count unchanged.
                let hourKey = "hour/2025-03-20T12:00:00Z/downtown/theft"
                let before = try await TopicFixture.readAll(topic: prefix + "metrics.incidents") { $0.contains { $0.keyString == hourKey } }
                struct Metric: Decodable { var revision: Int64; var final: Bool; var values: [String: Double?] }
                let open = try CoalitionJSON.decoder.decode(Metric.self, from: Data(try #require(before.last { $0.keyString == hourKey }).value))
                #expect(!open.final)
                try await MetricsFixtures.publish([try MetricsFixtures.record(MetricsFixtures.incident(category: .theft, area: "elsewhere", occurredAt: Self.time("2025-03-20T15:00:00Z")), topic: topic)])
                let monthKey = "month/2024-01-01T00:00:00Z/downtown/theft"
                let after = try await TopicFixture.readAll(topic: prefix + "metrics.incidents") { messages in
                    messages.contains { $0.keyString == hourKey && (try? CoalitionJSON.decoder.decode(Metric.self, from: Data($0.value)))?.final == true }
                        && messages.contains { $0.keyString == monthKey }
                }
                let final = try CoalitionJSON.decoder.decode(Metric.self, from: Data(try #require(after.last { $0.keyString == hourKey }).value))
                #expect(final.final)
                #expect(final.revision == open.revision + 1)
                #expect(final.values["count"] == open.values["count"])
                // Old windows are final.
                let old = try #require(after.last { $0.keyString == monthKey })
                #expect(try CoalitionJSON.decoder.decode(Metric.self, from: Data(old.value)).final)
                #expect(try await service.stop() == 0)
            }
        }
    }
}
