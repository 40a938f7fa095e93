import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

/// The HTTP front door end to end: the real service process, the real database and broker.
@Suite("HTTP intake")
struct HTTPIntakeTests {
    static let example = """
        {"source":"nyc-311","external_id":"64345465","category":"Animal-Abuse","description":"Neglected",
         "occurred_at":"2025-03-14T01:20:00-04:00","reported_at":"2025-03-14T01:20:00-04:00","closed_at":null,"status":"open",
         "location":{"lat":40.65651334,"lon":-73.88182509,"address":"285 COZINE AVENUE"},"area_hint":"05 BROOKLYN",
         "severity":null,"attributes":{"agency":"NYPD","descriptor":"Neglected"}}
        """

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func results(_ body: String) throws -> [[String: Any]] {
        try #require(try object(body)["results"] as? [[String: Any]])
    }

    @Test("accept, repeat, revise, reject, authorise: outcomes, stored revisions and published events")
    func intakeLifecycle() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("intake") + "."
            try await TopicFixture.withNamedTopics([prefix + "incidents.normalized", prefix + "incidents.rejected"]) {
                let service = try await ServiceProcess.start("incident-ingestion", environment: [
                    "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_OPERATOR_TOKEN": "operator-secret",
                ])
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                let registry = SourceRegistry(postgres: postgres)
                let key = try await registry.add(id: "nyc-311", name: "NYC 311", timezone: "America/New_York")
                try await registry.setCategories(source: "nyc-311", labels: ["Animal-Abuse": .animal])
                let otherKey = try await registry.add(id: "community-app", name: "Community app", timezone: "UTC")
                let url = service.baseURL + "/v1/incidents"
                let expectedID = IncidentIdentity.id(source: "nyc-311", externalId: "64345465").uuidString.lowercased()

                // The SPEC example is accepted as revision 1.
                var (status, body) = try await HTTPProbe.post(url, json: Self.example, bearer: key)
                #expect(status == 202, "\(body)")
                var result = try #require(try Self.results(body).first)
                #expect(result["status"] as? String == "accepted")
                #expect(result["revision"] as? Int == 1)
                #expect((result["id"] as? String)?.lowercased() == expectedID)

                // The same record again changes nothing.
                (status, body) = try await HTTPProbe.post(url, json: Self.example, bearer: key)
                result = try #require(try Self.results(body).first)
                #expect(result["status"] as? String == "unchanged")
                #expect(result["revision"] as? Int == 1)

                // A changed record is a new revision.
                let closed = Self.example.replacingOccurrences(of: #""closed_at":null,"status":"open""#, with: #""closed_at":"2025-03-14T09:00:00-04:00","status":"closed""#)
                (status, body) = try await HTTPProbe.post(url, json: closed, bearer: key)
                result = try #require(try Self.results(body).first)
                #expect(result["status"] as? String == "updated")
                #expect(result["revision"] as? Int == 2)

                // A batch: the bad item is rejected with reasons, the good one accepted.
                let bad = #"{"source":"nyc-311","external_id":"x-1","category":"Noise","occurred_at":"2025-03-14T01:20:00","area_hint":"05 BROOKLYN"}"#
                let good = #"{"source":"nyc-311","external_id":"x-2","category":"noise","occurred_at":"2025-03-14T01:20:00Z","area_hint":"05 BROOKLYN"}"#
                (status, body) = try await HTTPProbe.post(url, json: #"{"incidents":[\#(bad),\#(good)]}"#, bearer: key)
                #expect(status == 202)
                let batch = try Self.results(body)
                #expect(batch.map { $0["status"] as? String } == ["rejected", "accepted"])
                let reasons = try #require(batch[0]["errors"] as? [[String: Any]])
                #expect(reasons.contains { $0["field"] as? String == "occurred_at" && $0["code"] as? String == "missing_offset" })

                // A single bad incident is a 422 problem; nothing is stored for it.
                (status, body) = try await HTTPProbe.post(url, json: bad, bearer: key)
                #expect(status == 422)
                let problem = try Self.object(body)
                #expect(problem["status"] as? Int == 422)
                #expect((problem["errors"] as? [[String: Any]])?.first?["field"] as? String == "occurred_at")

                // Credentials: none → 401; another source's key → 403; the operator may write any source.
                (status, _) = try await HTTPProbe.post(url, json: Self.example, bearer: nil)
                #expect(status == 401)
                (status, _) = try await HTTPProbe.post(url, json: Self.example, bearer: "coal_unknown")
                #expect(status == 401)
                (status, body) = try await HTTPProbe.post(url, json: Self.example, bearer: otherKey)
                #expect(status == 403, "\(body)")
                (status, body) = try await HTTPProbe.post(url, json: closed, bearer: "operator-secret")
                #expect(status == 202)
                #expect(try Self.results(body).first?["status"] as? String == "unchanged")
                // Over 1 MiB → 413.
                let huge = Data(repeating: UInt8(ascii: " "), count: (1 << 20) + 10)
                (status, _) = try await HTTPProbe.post(url, body: huge, bearer: key)
                #expect(status == 413)

                // The stored canonical incident.
                (status, body) = try await HTTPProbe.get(url + "/" + expectedID, bearer: key)
                #expect(status == 200)
                let incident = try Self.object(body)
                #expect(incident["revision"] as? Int == 2)
                #expect(incident["category"] as? String == "animal")
                #expect(incident["source_category"] as? String == "Animal-Abuse")
                #expect(incident["category_group"] as? String == "non_criminal")
                #expect(incident["cell"] as? String == Geohash.encode(lat: 40.65651334, lon: -73.88182509, precision: 7))
                #expect(incident["taxonomy_version"] as? Int == 1)
                let revisions = try await postgres.query("SELECT count(*) FROM incident_revisions WHERE incident_id = \(UUID(uuidString: expectedID)!)")
                #expect(try revisions.first?.decode(0, as: Int.self) == 2)

                // One event per revision: id#1, id#2 and x-2's, each once; the repeat published nothing.
                let events = try await TopicFixture.readAll(topic: prefix + "incidents.normalized") { $0.count >= 3 }
                let ids = try events.compactMap { try CloudEvent(kafkaMessage: $0)?.id }
                #expect(ids.filter { $0 == "\(expectedID)#1" }.count == 1)
                #expect(ids.filter { $0 == "\(expectedID)#2" }.count == 1)
                #expect(ids.count == 3)
                #expect(events.allSatisfy { $0.header("ce_type")?.stringValue == "coalition.incident.v1" })
                // Rejections are kept with the original bytes and reasons.
                let rejections = try await TopicFixture.readAll(topic: prefix + "incidents.rejected") { $0.count >= 2 }
                let rejection = try Self.object(rejections[0].valueString)
                let original = try #require((rejection["original_base64"] as? String).flatMap { Data(base64Encoded: $0) })
                #expect(String(decoding: original, as: UTF8.self).contains("x-1"))
                #expect((rejection["reasons"] as? [[String: Any]])?.isEmpty == false)

                #expect(try await service.stop() == 0)
            }
        }
    }

    @Test("listing pages through every incident once with the cursor, and filters by category")
    func listWithCursor() async throws {
        try await withTemporaryDatabase { databaseURL in
            let service = try await ServiceProcess.start("incident-ingestion", environment: [
                "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": TestEnvironment.uniqueName("list") + ".",
            ])
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            let registry = SourceRegistry(postgres: postgres)
            let key = try await registry.add(id: "watch", name: "Watch", timezone: "UTC")
            let otherKey = try await registry.add(id: "other", name: "Other", timezone: "UTC")
            let items = (0..<25).map { index in
                #"{"source":"watch","external_id":"w\#(index)","category":"\#(index % 5 == 0 ? "noise" : "theft")","occurred_at":"2025-03-14T01:20:00Z","area_hint":"a"}"#
            }
            let (status, body) = try await HTTPProbe.post(service.baseURL + "/v1/incidents", json: #"{"incidents":[\#(items.joined(separator: ","))]}"#, bearer: key)
            #expect(status == 202, "\(body)")

            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let address = service.baseURL + "/v1/incidents?limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                let (pageStatus, page) = try await HTTPProbe.get(address, bearer: key)
                #expect(pageStatus == 200)
                let object = try Self.object(page)
                seen += try #require(object["incidents"] as? [[String: Any]]).compactMap { $0["external_id"] as? String }
                cursor = object["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 25)
            #expect(Set(seen).count == 25)

            let (_, noise) = try await HTTPProbe.get(service.baseURL + "/v1/incidents?category=noise", bearer: key)
            #expect(try #require(try Self.object(noise)["incidents"] as? [[String: Any]]).count == 5)
            let (forbidden, _) = try await HTTPProbe.get(service.baseURL + "/v1/incidents?source=watch", bearer: otherKey)
            #expect(forbidden == 403)
            let (empty, none) = try await HTTPProbe.get(service.baseURL + "/v1/incidents", bearer: otherKey)
            #expect(empty == 200)
            #expect(try #require(try Self.object(none)["incidents"] as? [[String: Any]]).isEmpty)
            #expect(try await service.stop() == 0)
        }
    }

    @Test("past its token bucket a source gets 429 with Retry-After, on /v1 and Open311 alike; the operator is not limited")
    func rateLimit() async throws {
        try await withTemporaryDatabase { databaseURL in
            let service = try await ServiceProcess.start("incident-ingestion", environment: [
                "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": TestEnvironment.uniqueName("rate") + ".",
                "COALITION_OPERATOR_TOKEN": "operator-secret", "COALITION_INGESTION_RATE_LIMIT": "0.001", "COALITION_INGESTION_BURST": "2",
            ])
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            let key = try await SourceRegistry(postgres: postgres).add(id: "nyc-311", name: "NYC 311", timezone: "America/New_York")
            let url = service.baseURL + "/v1/incidents"
            let batchOfTwo = #"{"incidents":[\#(Self.example),\#(Self.example)]}"#
            var (status, body) = try await HTTPProbe.post(url, json: batchOfTwo, bearer: key)
            #expect(status == 202, "\(body)")
            let limited = try await HTTPProbe.exchange("POST", url, body: Data(Self.example.utf8), bearer: key)
            #expect(limited.status == 429)
            #expect(Int(limited.headers["retry-after"] ?? "").map { $0 >= 1 } == true, "\(limited.headers)")
            let problem = try Self.object(limited.body)
            #expect(problem["status"] as? Int == 429)
            #expect((problem["detail"] as? String)?.contains("rate limit") == true)
            // The Open311 front door draws on the same bucket and answers in GeoReport's error shape.
            let form = "api_key=\(key)&service_code=noise&lat=40.7&long=-74.0&description=loud"
            // One token per 1,000 s: however slow the machine, the bucket is still empty here.
            let open311 = try await HTTPProbe.exchange(
                "POST", service.baseURL + "/open311/v2/requests.json", body: Data(form.utf8), contentType: "application/x-www-form-urlencoded")
            #expect(open311.status == 429, "\(open311.body)")
            #expect(open311.headers["retry-after"] != nil)
            let items = try #require(try JSONSerialization.jsonObject(with: Data(open311.body.utf8)) as? [[String: Any]])
            #expect(items.first?["code"] as? Int == 429)
            (status, _) = try await HTTPProbe.post(url, json: Self.example, bearer: "operator-secret")
            #expect(status == 202)
            #expect(try await service.stop() == 0)
        }
    }

    @Test("the NYC 311 export imports through the same path; a second import changes nothing")
    func csvImport() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
            defer { postgres.shutdown() }
            try await Migrator.migrate(postgres, logger: TestEnvironment.logger)
            let registry = SourceRegistry(postgres: postgres)
            _ = try await registry.add(id: "nyc-311", name: "NYC 311", timezone: "America/New_York")
            try await registry.setCategories(source: "nyc-311", labels: try #require(ShippedCategories.labels(for: "nyc-311")))
            let importer = CSVImporter(store: IncidentStore(postgres: postgres, logger: TestEnvironment.logger))
            let file = TestEnvironment.datasets.appendingPathComponent("nyc_311_animal_complaints_2025-03.csv")
            let first = try await importer.run(file: file, mapping: "nyc-311")
            #expect(first.read == 4969)
            #expect(first.accepted + first.rejected == 4969)
            let stored = try await postgres.query("SELECT count(*), count(*) FILTER (WHERE category = 'animal') FROM incidents").first
            #expect(try stored?.decode(0, as: Int.self) == first.accepted)
            #expect(try stored?.decode(1, as: Int.self) == first.accepted)
            let outbox = try await postgres.query("SELECT count(*) FROM outbox WHERE topic = 'incidents.normalized'").first
            #expect(try outbox?.decode(0, as: Int.self) == first.accepted)
            let second = try await importer.run(file: file, mapping: "nyc-311")
            #expect(second.unchanged == first.accepted)
            #expect(second.accepted == 0)
        }
    }
}
