import Contracts
import Foundation
import Kafka
import Postgres
import Testing
import TestSupport
@testable import AlertFanout

/// The running `alert-fanout` against the real broker and database, delivering to a local
/// webhook receiver (Python) that answers by script.
@Suite("Webhook delivery", .serialized)
struct WebhookDeliveryTests {
    static let operatorToken = "operator-secret"

    static func topics(_ prefix: String) -> [String] {
        ["incidents.normalized", "incidents.normalized.dlt", "alerts.requested", "alerts.requested.dlt", "alerts.delivered"].map { prefix + $0 }
    }

    static func start(databaseURL: String, prefix: String, allowLoopback: Bool, extra: [String: String] = [:]) async throws -> ServiceProcess {
        // A short group_interval: with the default 5 min, an alert planned after an urgent one to
        // the same channel (which may arrive in a later batch) waits past any test's patience.
        // The grouping test sets its own.
        var environment = [
            "COALITION_FANOUT_GROUP_WAIT": "300ms", "COALITION_FANOUT_GROUP_INTERVAL": "1s",
            "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_OPERATOR_TOKEN": operatorToken,
            "COALITION_KAFKA_SESSION_TIMEOUT": "6s", "COALITION_FANOUT_RETRY_INITIAL": "200ms", "COALITION_FANOUT_RETRY_MAX": "1s",
            "COALITION_FANOUT_POLL_INTERVAL": "100ms", "COALITION_FANOUT_ALLOW_HTTP_WEBHOOKS": "true",
        ]
        environment["COALITION_FANOUT_ALLOWED_NETWORKS"] = allowLoopback ? "127.0.0.0/8" : ""
        return try await ServiceProcess.start("alert-fanout", environment: environment.merging(extra) { _, new in new })
    }

    static func send(_ method: String, _ url: String, _ json: Any? = nil, token: String? = operatorToken) async throws -> (Int, [String: Any]) {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, text, _) = try await HTTPProbe.exchange(method, url, body: body, bearer: token)
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        return (status, object)
    }

    static func publish(_ incidents: [CanonicalIncident], topic: String) async throws {
        let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
        let records = try incidents.map { incident in
            let key = incident.id.uuidString.lowercased()
            return try CloudEvent(id: "\(key)#\(incident.revision)", source: "/test", type: EventType.incident, payload: incident)
                .kafkaRecord(topic: topic, key: key)
        }
        try await producer.sendAll(records)
        await producer.shutdown()
    }

    @Test("500, then 429 with Retry-After, then 200: one webhook-id throughout, signed, delivered; 410 disables the endpoint")
    func retriesAndGone() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanout") + "."
            try await TopicFixture.withNamedTopics(Self.topics(prefix)) {
                let flaky = try await WebhookReceiver(script: "500,429:1,200")
                let gone = try await WebhookReceiver(script: "410")
                let service = try await Self.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true)
                let base = service.baseURL + "/v1"

                // A resident with a circle around Times Square; a precinct everywhere, severity ≥ 3.
                var (status, resident) = try await Self.send("POST", base + "/stakeholders", [
                    "name": "Block association", "role": "neighborhood_association", "timezone": "America/New_York",
                    "channels": [["type": "webhook", "url": flaky.url("/hooks/block")]],
                ])
                #expect(status == 201, "\(resident)")
                let residentChannel = try #require((resident["channels"] as? [[String: Any]])?.first)
                let secret = try #require(residentChannel["secret"] as? String)
                #expect(secret.hasPrefix("whsec_"))
                (status, _) = try await Self.send("POST", base + "/subscriptions", [
                    "stakeholder_id": resident["id"]!, "circle": ["lat": 40.7580, "lon": -73.9855, "radius_m": 2000],
                    "channel_ids": [residentChannel["id"]!],
                ])
                #expect(status == 201)
                var precinct: [String: Any]
                (status, precinct) = try await Self.send("POST", base + "/stakeholders", [
                    "name": "Precinct 14", "role": "law_enforcement", "channels": [["type": "webhook", "url": gone.url("/hooks/p14")]],
                ])
                #expect(status == 201)
                let precinctChannel = try #require((precinct["channels"] as? [[String: Any]])?.first?["id"] as? String)
                (status, _) = try await Self.send("POST", base + "/subscriptions", [
                    "stakeholder_id": precinct["id"]!, "min_severity": 3, "channel_ids": [precinctChannel],
                ])
                #expect(status == 201)

                // Matches both: a theft the source graded 3, 1.1 km from Times Square.
                let incident = Fixtures.incident(category: .theft, area: "midtown", lat: 40.7678, lon: -73.9812, severity: 3)
                // Matches nobody: noise (severity 2) far away.
                let quiet = Fixtures.incident(category: .noise, area: "harlem", lat: 40.81, lon: -73.95)
                // Too old to alert (a historical import).
                let old = Fixtures.incident(category: .assault, occurredAt: Date().addingTimeInterval(-30 * 86_400))
                try await Self.publish([quiet, incident, old], topic: prefix + "incidents.normalized")

                let delivered = try await eventually("the third attempt", timeout: .seconds(60)) { () -> [WebhookReceiver.Received]? in
                    let received = flaky.received
                    return received.contains { $0.status == 200 } ? received : nil
                }
                #expect(delivered.map(\.status) == [500, 429, 200])
                let ids = Set(delivered.compactMap(\.webhookID))
                #expect(ids == [AlertPlanner.deliveryID(incident: incident.id, channel: UUID(uuidString: residentChannel["id"] as! String)!, reason: "new").uuidString.lowercased()])
                for request in delivered {
                    #expect(try await WebhookReceiver.verify(request, secrets: [secret]), "signature of attempt \(request.status)")
                }
                // Retry-After: 1 was honoured (the server's own clock on both sides).
                #expect(delivered[2].receivedAt - delivered[1].receivedAt >= 0.95)
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(delivered[2].body.utf8)) as? [String: Any])
                #expect(payload["type"] as? String == "coalition.notification.v1")
                let alerts = try #require(payload["alerts"] as? [[String: Any]])
                #expect(alerts.count == 1)
                #expect((alerts.first?["incident"] as? [String: Any])?["id"] as? String == incident.id.uuidString.lowercased())

                // 410: the delivery fails at once and the channel is disabled.
                try await eventually("the 410 to disable the endpoint", timeout: .seconds(30)) {
                    let (_, body) = try await Self.send("GET", base + "/stakeholders/\(precinct["id"]!)")
                    return ((body["channels"] as? [[String: Any]])?.first?["disabled_reason"] as? String)?.contains("410") == true
                }
                #expect(gone.received.count == 1)

                // The table and alerts.delivered agree on the terminal states.
                let (_, list) = try await Self.send("GET", base + "/deliveries")
                let rows = try #require(list["deliveries"] as? [[String: Any]])
                #expect(Set(rows.map { "\($0["role"]!)=\($0["state"]!)/\($0["attempts"]!)" }) == ["neighborhood_association=delivered/3", "law_enforcement=failed/1"])
                let events = try await TopicFixture.readAll(topic: prefix + "alerts.delivered", timeout: .seconds(60)) { $0.count >= 3 }
                let outcomes = try events.compactMap { try CloudEvent(kafkaMessage: $0) }.filter { $0.type == EventType.alertDelivery }
                    .map { try $0.decodeData(as: DeliveryOutcome.self) }
                #expect(Set(outcomes.map { "\($0.role.rawValue)=\($0.outcome.rawValue)" }) == ["neighborhood_association=delivered", "law_enforcement=failed"])
                #expect(outcomes.allSatisfy { $0.incidentId == incident.id.uuidString.lowercased() })
                #expect(try events.compactMap { try CloudEvent(kafkaMessage: $0) }.contains { $0.type == EventType.alertEndpointDisabled })

                #expect(try await service.stop() == 0)
                await flaky.stop()
                await gone.stop()
            }
        }
    }

    @Test("grouping: alerts within group_wait travel as one notification; urgent ones go at once; the next waits group_interval")
    func grouping() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutgroup") + "."
            try await TopicFixture.withNamedTopics(Self.topics(prefix)) {
                let receiver = try await WebhookReceiver(script: "200")
                let service = try await Self.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true, extra: [
                    "COALITION_FANOUT_GROUP_WAIT": "2s", "COALITION_FANOUT_GROUP_INTERVAL": "1h",
                ])
                let base = service.baseURL + "/v1"
                let (_, stakeholder) = try await Self.send("POST", base + "/stakeholders", [
                    "name": "Watch group", "role": "neighborhood_association", "channels": [["type": "webhook", "url": receiver.url("/watch")]],
                ])
                let channel = try #require((stakeholder["channels"] as? [[String: Any]])?.first?["id"] as? String)
                let (status, _) = try await Self.send("POST", base + "/subscriptions", ["stakeholder_id": stakeholder["id"]!, "channel_ids": [channel]])
                #expect(status == 201)

                let burst = (0..<3).map { _ in Fixtures.incident(category: .vandalism) }
                try await Self.publish(burst, topic: prefix + "incidents.normalized")
                let first = try await eventually("the grouped notification", timeout: .seconds(60)) { receiver.received.first }
                let alerts = try #require((try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [String: Any])?["alerts"] as? [[String: Any]])
                #expect(Set(alerts.compactMap { ($0["incident"] as? [String: Any])?["id"] as? String }) == Set(burst.map { $0.id.uuidString.lowercased() }))

                // Severity 4 skips the wait and the interval; severity 2 now waits for group_interval.
                let urgent = Fixtures.incident(category: .robbery)
                let later = Fixtures.incident(category: .vandalism)
                try await Self.publish([urgent, later], topic: prefix + "incidents.normalized")
                let second = try await eventually("the urgent notification", timeout: .seconds(60)) { receiver.received.count >= 2 ? receiver.received[1] : nil }
                #expect(second.body.contains(urgent.id.uuidString.lowercased()))
                #expect(!second.body.contains(later.id.uuidString.lowercased()))
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                let wait = try await postgres.query("""
                    SELECT extract(epoch FROM d.next_attempt_at - c.last_notified_at)::float8, d.state
                    FROM deliveries d JOIN stakeholder_channels c ON c.id = d.channel_id WHERE d.incident_id = \(later.id)
                    """).first.map { try $0.decode((Double, String).self) }
                #expect(wait?.1 == "pending")
                // Scheduled one group_interval after the first notification (the urgent one does not reset the clock it waits on).
                #expect(wait.map { $0.0 > 3000 && $0.0 <= 3600 } == true, "\(String(describing: wait))")
                #expect(receiver.received.count == 2)
                #expect(try await service.stop() == 0)
                await receiver.stop()
            }
        }
    }

    @Test("per-recipient rate limit: past N notifications an hour the rest wait for the window; severity 5 still goes")
    func rateLimit() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutrate") + "."
            try await TopicFixture.withNamedTopics(Self.topics(prefix)) {
                let receiver = try await WebhookReceiver(script: "200")
                let service = try await Self.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true, extra: [
                    "COALITION_FANOUT_RATE_LIMIT_PER_HOUR": "2",
                ])
                let base = service.baseURL + "/v1"
                let (_, stakeholder) = try await Self.send("POST", base + "/stakeholders", [
                    "name": "Night shift", "role": "law_enforcement", "channels": [["type": "webhook", "url": receiver.url("/night")]],
                ])
                let channel = try #require((stakeholder["channels"] as? [[String: Any]])?.first?["id"] as? String)
                _ = try await Self.send("POST", base + "/subscriptions", ["stakeholder_id": stakeholder["id"]!, "channel_ids": [channel]])
                // Urgent (severity 4) incidents one after another: each its own notification.
                var sent: [CanonicalIncident] = []
                for index in 0..<2 {
                    let incident = Fixtures.incident(category: .robbery)
                    sent.append(incident)
                    try await Self.publish([incident], topic: prefix + "incidents.normalized")
                    try await eventually("notification \(index + 1)", timeout: .seconds(60)) { receiver.received.count == index + 1 }
                }
                let limited = Fixtures.incident(category: .robbery)
                let extreme = Fixtures.incident(category: .homicide)
                try await Self.publish([limited], topic: prefix + "incidents.normalized")
                let row = try await eventually("the third to be held back", timeout: .seconds(60)) { () -> [String: Any]? in
                    let (_, list) = try await Self.send("GET", base + "/deliveries?incident_id=\(limited.id.uuidString.lowercased())")
                    guard let row = (list["deliveries"] as? [[String: Any]])?.first,
                          let next = (row["next_attempt_at"] as? String).flatMap(RFC3339.date(from:)), next.timeIntervalSinceNow > 3000 else { return nil }
                    return row
                }
                #expect(row["state"] as? String == "pending", "waits for the hour-long window to end")
                // An extreme incident is not held back.
                try await Self.publish([extreme], topic: prefix + "incidents.normalized")
                try await eventually("the severity-5 notification", timeout: .seconds(60)) { receiver.received.count == 3 }
                #expect(receiver.received[2].body.contains(extreme.id.uuidString.lowercased()))
                #expect(!receiver.received[2].body.contains(limited.id.uuidString.lowercased()))
                #expect(try await service.stop() == 0)
                await receiver.stop()
            }
        }
    }

    @Test("a loopback target is refused when the operator has not allowed it; bad input gets 422 and 401")
    func guardAndValidation() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutguard") + "."
            try await TopicFixture.withNamedTopics(Self.topics(prefix)) {
                let receiver = try await WebhookReceiver(script: "200")
                let service = try await Self.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: false)
                let base = service.baseURL + "/v1"

                var (status, body) = try await Self.send("POST", base + "/stakeholders", ["name": "x", "role": "resident"], token: nil)
                #expect(status == 401)
                (status, body) = try await Self.send("POST", base + "/stakeholders", ["name": "x", "role": "resident"], token: "wrong")
                #expect(status == 401)
                (status, body) = try await Self.send("POST", base + "/stakeholders", [
                    "name": "", "role": "mayor", "channels": [["type": "sms", "number": "12345"]],
                ])
                #expect(status == 422)
                #expect((body["errors"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["required", "unknown_role", "invalid_e164"])

                var stakeholder: [String: Any]
                (status, stakeholder) = try await Self.send("POST", base + "/stakeholders", [
                    "name": "Tenants", "role": "resident", "channels": [["type": "webhook", "url": receiver.url("/hook")]],
                ])
                #expect(status == 201)
                let channel = try #require((stakeholder["channels"] as? [[String: Any]])?.first?["id"] as? String)
                (status, body) = try await Self.send("POST", base + "/subscriptions", [
                    "stakeholder_id": stakeholder["id"]!, "areas": ["atlantis"], "channel_ids": [channel, UUID().uuidString],
                    "circle": ["lat": 40.7, "lon": -74.0, "radius_m": 60_000],
                ])
                #expect(status == 422)
                #expect((body["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } == ["circle/radius_m"])
                (status, body) = try await Self.send("POST", base + "/subscriptions", [
                    "stakeholder_id": stakeholder["id"]!, "areas": ["atlantis"], "channel_ids": [channel, UUID().uuidString],
                ])
                #expect(status == 422)
                #expect((body["errors"] as? [[String: Any]])?.compactMap { $0["code"] as? String } == ["unknown_channel", "unknown_area"])
                (status, body) = try await Self.send("POST", base + "/subscriptions", ["stakeholder_id": stakeholder["id"]!, "channel_ids": [channel]])
                #expect(status == 201)

                let incident = Fixtures.incident()
                try await Self.publish([incident], topic: prefix + "incidents.normalized")
                let row = try await eventually("the delivery to fail", timeout: .seconds(60)) { () -> [String: Any]? in
                    let (_, list) = try await Self.send("GET", base + "/deliveries?state=failed")
                    return (list["deliveries"] as? [[String: Any]])?.first
                }
                #expect((row["last_error"] as? String)?.contains("target refused") == true, "\(row)")
                #expect(receiver.received.isEmpty, "nothing may reach a refused target")

                #expect(try await service.stop() == 0)
                await receiver.stop()
            }
        }
    }
}
