import Contracts
import Foundation
import Kafka
import Testing
import TestSupport
@testable import AlertFanout

/// The alert metrics through the running aggregator: deliveries as the fan-out publishes them
/// (its own `DeliveryOutcome` events), duplicates, a notice that is not a delivery and
/// unreadable records; counts, success ratio and latency percentiles against an independent
/// computation over the generated outcomes.
@Suite("Alert metrics through the running aggregator", .serialized)
struct AlertMetricsTests {
    /// Linear interpolation between ranks, as `percentile_cont`.
    static func percentile(_ values: [Double], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = p * Double(sorted.count - 1)
        let low = Int(rank.rounded(.down)), high = Int(rank.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - Double(low))
    }

    /// A JSON number (or null) against the expected value.
    static func close(_ actual: Any?, _ expected: Double?) -> Bool {
        guard let expected else { return actual is NSNull }
        guard let value = (actual as? NSNumber)?.doubleValue else { return false }
        return abs(value - expected) <= 1e-6 * max(1, abs(expected))
    }

    @Test("each delivery counts once by channel, role and outcome; latency p50/p95 and success ratio are exact; bad records go to the DLT")
    func deliveries() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("metricsalerts") + "."
            let topic = prefix + "alerts.delivered"
            try await TopicFixture.withNamedTopics(MetricsFixtures.topics(prefix), partitions: 3) {
                let postgres = try MetricsFixtures.connect(databaseURL)
                defer { postgres.shutdown() }
                let service = try await MetricsFixtures.start(databaseURL: databaseURL, prefix: prefix)

                var random = SeededRandom(seed: 17)
                let day0 = try Date.ISO8601FormatStyle().parse("2025-03-10T00:00:00Z")
                let roles: [StakeholderRole] = [.lawEnforcement, .communityOrg, .resident]
                let outcomes: [DeliveryState] = [.delivered, .delivered, .delivered, .failed, .suppressed, .cancelled]
                var generated: [DeliveryOutcome] = []
                for _ in 0..<240 {
                    let channel = ChannelType.allCases[Int(random.next() % 3)]
                    let outcome = outcomes[Int(random.next() % UInt64(outcomes.count))]
                    let finished = day0.addingTimeInterval(Double(random.next() % (2 * 86_400)))
                    generated.append(DeliveryOutcome(
                        deliveryId: UUID(), incidentId: UUID().uuidString.lowercased(), revision: 1, reason: "new", stakeholderId: UUID(),
                        role: roles[Int(random.next() % 3)], channelId: UUID(), channel: channel, severity: 3, outcome: outcome,
                        attempts: outcome == .cancelled ? 0 : 1, lastStatus: outcome == .delivered ? 200 : nil, error: nil,
                        ingestedAt: finished.addingTimeInterval(-2), createdAt: finished.addingTimeInterval(-1), finishedAt: finished,
                        latencyMs: outcome == .delivered ? Int(10 + random.next() % 5000) : nil))
                }
                var records = try generated.map { outcome -> KafkaRecord in
                    let event = try outcome.outboxEvent
                    return event.event.kafkaRecord(topic: topic, key: event.key)
                }
                // Redelivered outcomes (the relay republished them), the same bytes again.
                records += records.prefix(20)
                // Not a delivery: the fan-out's endpoint-disabled notice on the same topic.
                let disabled = EndpointDisabled(channelId: UUID(), stakeholderId: UUID(), reason: "410", disabledAt: day0)
                records.append(try disabled.outboxEvent.event.kafkaRecord(topic: topic, key: "channel"))
                // Unreadable: not JSON; an unknown channel.
                records.append(KafkaRecord(topic: topic, key: "garbage", value: "{\"delivery_id\":", headers: []))
                var pigeon = try JSONSerialization.jsonObject(with: Data(try CoalitionJSON.encoder.encode(generated[0]))) as! [String: Any]
                pigeon["channel"] = "pigeon"
                pigeon["delivery_id"] = UUID().uuidString.lowercased()
                records.append(KafkaRecord(topic: topic, key: Array("pigeon".utf8), value: Array(try JSONSerialization.data(withJSONObject: pigeon)), headers: []))
                try await MetricsFixtures.publish(records)
                try await MetricsFixtures.waitUntilApplied(postgres, topic: topic, count: records.count, service: service)

                // The independent computation: per UTC day, channel and role (and the totals).
                for channel in ["webhook", "*"] {
                    for role in ["resident", "*"] {
                        let series = try await MetricsFixtures.series(
                            service, "/v1/metrics/alerts?granularity=day&channel=\(channel)&role=\(role)&from=2025-03-10T00:00:00Z&to=2025-03-12T00:00:00Z")
                        for dayIndex in 0..<2 {
                            let start = day0.addingTimeInterval(Double(dayIndex) * 86_400)
                            let chosen = generated.filter {
                                $0.finishedAt >= start && $0.finishedAt < start.addingTimeInterval(86_400)
                                    && (channel == "*" || $0.channel.rawValue == channel) && (role == "*" || $0.role.rawValue == role)
                            }
                            let point = try #require(series[start], "\(channel)/\(role) day \(dayIndex)")
                            func count(_ state: DeliveryState) -> Int { chosen.filter { $0.outcome == state }.count }
                            #expect(point["count"] as? Int == chosen.count)
                            #expect(point["delivered"] as? Int == count(.delivered))
                            #expect(point["failed"] as? Int == count(.failed))
                            #expect(point["suppressed_deliveries"] as? Int == count(.suppressed))
                            #expect(point["cancelled"] as? Int == count(.cancelled))
                            let attempted = count(.delivered) + count(.failed)
                            #expect(Self.close(point["success_ratio"], attempted == 0 ? nil : Double(count(.delivered)) / Double(attempted)))
                            let latencies = chosen.compactMap { $0.outcome == .delivered ? $0.latencyMs.map(Double.init) : nil }
                            #expect(Self.close(point["latency_p50_ms"], Self.percentile(latencies, 0.5)))
                            #expect(Self.close(point["latency_p95_ms"], Self.percentile(latencies, 0.95)))
                            #expect(Self.close(point["latency_mean_ms"], latencies.isEmpty ? nil : latencies.reduce(0, +) / Double(latencies.count)))
                        }
                    }
                }

                let dead = try await TopicFixture.readAll(topic: topic + ".dlt") { $0.count >= 2 }
                #expect(dead.count == 2)
                #expect(Set(dead.compactMap { $0.header(DeadLetterPublisher.Header.errorCode)?.stringValue }) == ["invalid_delivery_event"])

                // On the topic: the day row of webhook/resident, keyed as documented.
                let key = "day/2025-03-10T00:00:00Z/webhook/resident"
                let published = try await TopicFixture.readAll(topic: prefix + "metrics.alerts") { messages in messages.contains { $0.keyString == key } }
                let record = try #require(published.last { $0.keyString == key })
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any])
                #expect(payload["metric"] as? String == "alerts")
                #expect(payload["dimensions"] as? [String: String] == ["channel": "webhook", "role": "resident"])
                #expect(record.header("ce_type")?.stringValue == EventType.metric)
                #expect(try await service.stop() == 0)
            }
        }
    }
}
