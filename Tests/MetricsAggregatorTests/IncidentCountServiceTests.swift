import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport

/// The running aggregator against real Kafka and PostgreSQL: late and out-of-order events,
/// duplicate deliveries, a revision that changes category, unreadable records, the metric
/// topic and the query API.
@Suite("Incident counts through the running aggregator", .serialized)
struct IncidentCountServiceTests {
    static func day(_ text: String, hour: Int = 12) -> Date {
        try! Date.ISO8601FormatStyle().parse("\(text)T\(String(format: "%02d", hour)):00:00Z")
    }

    @Test("late, out-of-order, duplicate and category-changing revisions give exact counts; bad records go to the DLT with the reason")
    func semantics() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("metricsrun") + "."
            let topic = prefix + "incidents.normalized"
            try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix)

                let moved = UUID(), reordered = UUID(), duplicated = UUID()
                var records: [KafkaRecord] = []
                // A revision that changes the category: theft → vandalism.
                records.append(try MetricsFixtures.record(MetricsFixtures.incident(id: moved, occurredAt: Self.day("2025-03-10")), topic: topic))
                records.append(try MetricsFixtures.record(
                    MetricsFixtures.incident(id: moved, revision: 2, category: .vandalism, occurredAt: Self.day("2025-03-10")), topic: topic))
                // Out of order: revision 2 (another day and area) before revision 1.
                records.append(try MetricsFixtures.record(
                    MetricsFixtures.incident(id: reordered, revision: 2, area: "harbor", occurredAt: Self.day("2025-03-12")), topic: topic))
                records.append(try MetricsFixtures.record(MetricsFixtures.incident(id: reordered, occurredAt: Self.day("2025-03-11")), topic: topic))
                // Delivered three times (same ce_id).
                let once = try MetricsFixtures.record(MetricsFixtures.incident(id: duplicated, category: .assault, occurredAt: Self.day("2025-03-10", hour: 3)), topic: topic)
                records += [once, once, once]
                // Late: a 2018 record arriving after the 2025 ones.
                records.append(try MetricsFixtures.record(MetricsFixtures.incident(category: .burglary, occurredAt: Self.day("2018-12-24")), topic: topic))
                // Sensitive, and alone in its window (below k).
                records.append(try MetricsFixtures.record(
                    MetricsFixtures.incident(category: .domesticViolence, area: "harbor", occurredAt: Self.day("2025-03-15")), topic: topic))
                // Unreadable: not JSON, and a CloudEvent of another type.
                records.append(KafkaRecord(topic: topic, key: "garbage", value: "not json {", headers: []))
                var wrongType = try MetricsFixtures.record(MetricsFixtures.incident(occurredAt: Self.day("2025-03-10")), topic: topic)
                wrongType.headers = wrongType.headers.map { $0.key == "ce_type" ? KafkaHeader(key: "ce_type", string: "coalition.something.v1") : $0 }
                records.append(wrongType)
                // The first revision is applied on its own, so its window exists (count 1)
                // before the correction moves it; the rest follows one record at a time.
                try await MetricsFixtures.publish([records[0]])
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: 1)
                for record in records.dropFirst() { try await MetricsFixtures.publish([record]) }

                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: records.count)
                let daily = try await MetricsFixtures.dailyCounts(postgres, timezone: "UTC")
                #expect(daily == [
                    "2025-03-10 downtown vandalism": 1,
                    "2025-03-12 harbor theft": 1,
                    "2025-03-10 downtown assault": 1,
                    "2018-12-24 downtown burglary": 1,
                    "2025-03-15 harbor domestic_violence": 1,
                ])
                let snapshot = try await MetricsFixtures.snapshot(postgres)
                #expect(snapshot["incidents day 2025-03-10T00:00:00 */*"] == 2)
                #expect(snapshot["incidents day 2025-03-10T00:00:00 */*/property"] == 1)
                #expect(snapshot["incidents day 2025-03-10T00:00:00 */*/person"] == 1)
                #expect(snapshot["incidents week 2025-03-10T00:00:00 */*"] == 4)
                #expect(snapshot["incidents month 2025-03-01T00:00:00 */*"] == 4)
                #expect(snapshot["incidents month 2018-12-01T00:00:00 */*"] == 1)
                #expect(snapshot["incidents hour 2025-03-10T03:00:00 downtown/assault"] == 1)

                // The two unreadable records, each with where it came from and why.
                let dead = try await TopicFixture.readAll(topic: topic + ".dlt") { $0.count >= 2 }
                #expect(dead.count == 2)
                let codes = Set(dead.compactMap { $0.header(DeadLetterPublisher.Header.errorCode)?.stringValue })
                #expect(codes == ["invalid_incident_event", "unexpected_event_type"])
                #expect(dead.allSatisfy { $0.header(DeadLetterPublisher.Header.originalTopic)?.stringValue == topic })
                #expect(dead.allSatisfy { !($0.header(DeadLetterPublisher.Header.errorMessage)?.stringValue ?? "").isEmpty })

                // The metric topic: the theft window the revision left is re-emitted under the
                // same key with count 0 and a higher revision.
                let theftKey = "day/2025-03-10T00:00:00Z/downtown/theft"
                let vandalismKey = "day/2025-03-10T00:00:00Z/downtown/vandalism"
                let sensitiveKey = "day/2025-03-15T00:00:00Z/harbor/domestic_violence"
                let metrics = try await TopicFixture.readAll(topic: prefix + "metrics.incidents") { messages in
                    let keys = Set(messages.compactMap(\.keyString))
                    return keys.contains(theftKey) && keys.contains(vandalismKey) && keys.contains("month/2018-12-01T00:00:00Z/*/*")
                        && keys.contains(sensitiveKey) && keys.contains("day/2025-03-15T00:00:00Z/harbor/*")
                }
                struct Metric: Decodable { var revision: Int64; var values: [String: Double?]; var windowEnd: Date; var dimensions: [String: String] }
                let latest = Dictionary(metrics.map { ($0.keyString ?? "", $0) }, uniquingKeysWith: { $1 })
                let theft = try CoalitionJSON.decoder.decode(Metric.self, from: Data(try #require(latest[theftKey]).value))
                #expect(theft.values["count"] == .some(0))
                #expect(theft.revision >= 2)
                #expect(theft.dimensions == ["area": "downtown", "category": "theft"])
                // Privacy on the topic: a sensitive category below k carries no count.
                let sensitiveRecord = try #require(latest[sensitiveKey])
                let sensitive = try #require(try JSONSerialization.jsonObject(with: Data(sensitiveRecord.value)) as? [String: Any])
                #expect((sensitive["values"] as? [String: Any])?["count"] is NSNull)
                #expect(sensitive["suppressed"] as? Bool == true)
                let harborRecord = try #require(latest["day/2025-03-15T00:00:00Z/harbor/*"])
                let harborTotal = try #require(try JSONSerialization.jsonObject(with: Data(harborRecord.value)) as? [String: Any])
                #expect((harborTotal["values"] as? [String: Any])?["count"] as? Int == 1, "area totals are not a sensitive category")
                let vandalism = try #require(latest[vandalismKey])
                #expect(vandalism.header("ce_type")?.stringValue == EventType.metric)
                #expect(vandalism.header("ce_subject")?.stringValue == vandalismKey)

                // The query API: operator scope sees the 1; public scope withholds it (k = 3).
                let query = "/v1/metrics/incidents?granularity=day&area=downtown&category=vandalism&from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z"
                let operatorAnswer = try await HTTPProbe.exchange("GET", service.baseURL + query, bearer: MetricsFixtures.operatorToken)
                #expect(operatorAnswer.status == 200)
                let operatorSeries = try #require(try JSONSerialization.jsonObject(with: Data(operatorAnswer.body.utf8)) as? [String: Any])["series"] as? [[String: Any]]
                #expect(operatorSeries?.count == 1)
                #expect(operatorSeries?.first?["count"] as? Int == 1)
                #expect((operatorSeries?.first?["window_start"] as? String).flatMap(RFC3339.date(from:)) == Self.day("2025-03-10", hour: 0))
                let publicAnswer = try await HTTPProbe.exchange("GET", service.baseURL + query)
                let publicSeries = try #require(try JSONSerialization.jsonObject(with: Data(publicAnswer.body.utf8)) as? [String: Any])["series"] as? [[String: Any]]
                #expect(publicSeries?.first?["count"] is NSNull)
                #expect(publicSeries?.first?["suppressed"] as? Bool == true)
                let total = try await HTTPProbe.exchange("GET", service.baseURL + "/v1/metrics/incidents?granularity=month&from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z")
                let totalSeries = try #require(try JSONSerialization.jsonObject(with: Data(total.body.utf8)) as? [String: Any])["series"] as? [[String: Any]]
                #expect(totalSeries?.first?["count"] as? Int == 4, "4 ≥ k: shown publicly")

                let bad = try await HTTPProbe.exchange("GET", service.baseURL + "/v1/metrics/incidents?granularity=fortnight&from=yesterday")
                #expect(bad.status == 400)
                #expect(bad.headers["content-type"]?.hasPrefix("application/problem+json") == true)
                let problem = try #require(try JSONSerialization.jsonObject(with: Data(bad.body.utf8)) as? [String: Any])
                #expect(Set((problem["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }) == ["granularity", "from"])
                #expect(try await HTTPProbe.get(service.baseURL + "/v1/metrics/nonsense").0 == 404)

                // The live stream, resumed after its third event: the rest of the updates in
                // order, ids ascending, each a metric payload.
                // Event ids are positions in the update log: published_seq * 2^20 + entry index.
                let stored = try await postgres.query("""
                    SELECT published_seq, entry_count FROM metric_update_batches WHERE published_seq IS NOT NULL ORDER BY published_seq
                    """).flatMap { row -> [Int64] in
                    let (seq, count) = try row.decode((Int64, Int).self)
                    return (0..<count).map { seq << 20 | Int64($0) }
                }
                #expect(stored.count > 10)
                let resumeAfter = stored[2]
                let curl = try ChildProcess(
                    URL(fileURLWithPath: "/usr/bin/curl"),
                    arguments: ["-sN", "--max-time", "3", "-H", "Last-Event-ID: \(resumeAfter)", "-H", "Authorization: Bearer \(MetricsFixtures.operatorToken)",
                                service.baseURL + "/v1/stream"])
                _ = try await curl.waitForExit(timeout: .seconds(30))
                let ids = curl.lines.filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
                #expect(ids == Array(stored.dropFirst(3)), "every update after the given id, in order")
                let data = curl.lines.filter { $0.hasPrefix("data: ") }
                #expect(data.count == ids.count)
                #expect(data.allSatisfy { $0.contains("\"metric\":") && $0.contains("\"revision\":") })
                let badResume = try await HTTPProbe.exchange("GET", service.baseURL + "/v1/stream?last_event_id=yesterday")
                #expect(badResume.status == 400)
                #expect(try await service.stop() == 0)
            }
        }
    }
}
