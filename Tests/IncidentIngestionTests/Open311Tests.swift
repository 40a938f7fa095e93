import Contracts
import Foundation
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The Open311 GeoReport v2 front door: parsing rules without infrastructure, then the real
/// service process against the real database and broker.
@Suite("Open311 GeoReport v2")
struct Open311Tests {
    // MARK: - Rules

    @Test("form bodies decode +, %-escapes and attribute lists; the kept copy drops the key and contact fields")
    func formDecoding() throws {
        let form = try Open311Form(decoding: Array(
            "api_key=coal_secret&service_code=noise&description=Loud+music%21&attribute%5Bfloor%5D=3&attribute[pets][]=dog&attribute[pets][]=cat&email=a%40b.example&lat=&long=".utf8))
        #expect(form["description"] == "Loud music!")
        #expect(form["lat"] == nil)
        #expect(form.attributes.map(\.code) == ["floor", "pets"])
        #expect(form.attributes.map(\.value) == ["3", "dog,cat"])
        let kept = String(decoding: Open311Submission(form: form).keptBytes, as: UTF8.self)
        #expect(!kept.contains("coal_secret"))
        #expect(!kept.contains("email"))
        #expect(kept.contains("description=Loud+music%21"))
        #expect(throws: Open311Error.self) { try Open311Form(decoding: Array("description=100%".utf8)) }
    }

    @Test("a submission maps onto the incident object; bad fields are reported in GeoReport's words")
    func submissionMapping() throws {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        var form = try Open311Form(decoding: "service_code=noise&address_string=12+Main+St&media_url=http%3A%2F%2Fx.example%2F1.jpg")
        var (object, errors) = Open311Submission(form: form).incidentObject(source: "city", externalId: "r-1", now: now)
        #expect(errors.isEmpty)
        #expect(object["area_hint"] as? String == "12 Main St")
        #expect((object["location"] as? [String: Any])?["address"] as? String == "12 Main St")
        #expect((object["attributes"] as? [String: Any])?["media_url"] as? String == "http://x.example/1.jpg")
        guard case .success(let raw) = IncidentValidator.validate(object) else {
            Issue.record("a complete submission must validate")
            return
        }
        #expect(raw.category == "noise")
        #expect(raw.occurredAt == now)

        form = try Open311Form(decoding: "service_code=potholes&lat=91&description=x")
        (object, errors) = Open311Submission(form: form).incidentObject(source: "city", externalId: "r-2", now: now)
        guard case .failure(let failure) = IncidentValidator.validate(object) else {
            Issue.record("lat without long must be refused")
            return
        }
        let reasons = (failure.errors + errors).map(Open311Submission.describe)
        #expect(reasons.contains("lat must be between -90 and 90"))
        #expect(reasons.contains("long is required with lat"))
        #expect(reasons.contains("service_code potholes was not found in services.json"))
    }

    @Test("request filters: 90-day default, bounded spans, known codes and statuses; ids override the rest")
    func requestFilters() throws {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let byDefault = try Open311RequestQuery(form: Open311Form(decoding: ""), now: now)
        #expect(byDefault.selection == .filter(serviceCodes: nil, start: now.addingTimeInterval(-90 * 86_400), end: nil, statuses: nil))
        // An unescaped `+` of an offset arrives as a space.
        let offset = try Open311RequestQuery(form: Open311Form(decoding: "start_date=2025-03-14T00:00:00+01:00&status=closed"), now: now)
        let start = try #require(RFC3339.date(from: "2025-03-13T23:00:00Z"))
        #expect(offset.selection == .filter(serviceCodes: nil, start: start, end: start.addingTimeInterval(90 * 86_400), statuses: ["closed"]))
        let ids = try Open311RequestQuery(form: Open311Form(decoding: "service_request_id=a,%20b&service_code=nonsense"), now: now)
        #expect(ids.selection == .ids(["a", "b"]))
        for bad in ["start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z", "start_date=2025-01-01T00:00:00",
                    "service_code=potholes", "status=pending", "start_date=2025-02-01T00:00:00Z&end_date=2025-01-01T00:00:00Z"] {
            #expect(throws: Open311Error.self, "\(bad)") { try Open311RequestQuery(form: Open311Form(decoding: bad), now: now) }
        }
    }

    // MARK: - End to end

    @Test("services, POST, GET by id and by filters, credentials, refusals and privacy, against the running service")
    func geoReportLifecycle() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("open311") + "."
            let topics = ["incidents.raw", "incidents.normalized", "incidents.rejected", "incidents.raw.dlt"].map { prefix + $0 }
            try await TopicFixture.withNamedTopics(topics) {
                let service = try await ServiceProcess.start("incident-ingestion", environment: [
                    "COALITION_DATABASE_URL": databaseURL, "COALITION_TOPIC_PREFIX": prefix,
                    "COALITION_OPERATOR_TOKEN": "operator-secret", "COALITION_KAFKA_SESSION_TIMEOUT": "6s",
                ])
                let postgres = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 2), logger: TestEnvironment.logger)
                defer { postgres.shutdown() }
                let registry = SourceRegistry(postgres: postgres)
                let key = try await registry.add(id: "city-311", name: "City 311", timezone: "America/New_York")
                try await registry.setCategories(source: "city-311", labels: [
                    "Noise - Residential": .noise, "Loud Music/Party": .noise, "Graffiti": .vandalism, "Sexual Assault": .sexOffense,
                ])
                let otherKey = try await registry.add(id: "county-app", name: "County app", timezone: "UTC")
                let base = service.baseURL + "/open311/v2"

                // services.json: the mapped categories in taxonomy order, by jurisdiction_id or api_key.
                var (status, body) = try await HTTPProbe.get(base + "/services.json?jurisdiction_id=city-311")
                #expect(status == 200, "\(body)")
                let services = try Self.array(body)
                #expect(services.map { $0["service_code"] as? String } == ["sex_offense", "vandalism", "noise"])
                let noise = try #require(services.last)
                #expect(noise["service_name"] as? String == "Noise")
                #expect(noise["keywords"] as? String == "Loud Music/Party, Noise - Residential")
                #expect(noise["group"] as? String == "non_criminal")
                #expect(noise["type"] as? String == "realtime")
                #expect(noise["metadata"] as? Bool == false)
                (status, body) = try await HTTPProbe.get(base + "/services.json?api_key=" + key)
                #expect(status == 200)
                #expect(try Self.array(body).count == 3)
                // Two sources: a jurisdiction is needed; an unknown one is 404; an unknown key 403.
                (status, body) = try await HTTPProbe.get(base + "/services.json")
                #expect(status == 400)
                #expect(try Self.array(body).first?["code"] as? Int == 400)
                (status, _) = try await HTTPProbe.get(base + "/services.json?jurisdiction_id=atlantis")
                #expect(status == 404)
                // A NUL cannot be in a source id (nor in a PostgreSQL text parameter): 400, in GeoReport's shape.
                (status, body) = try await HTTPProbe.get(base + "/services.json?jurisdiction_id=city-311%00")
                #expect(status == 400)
                #expect(try Self.array(body).first?["description"] as? String == "the query parameter jurisdiction_id contains a NUL character")
                (status, _) = try await HTTPProbe.get(base + "/services.json?api_key=coal_unknown")
                #expect(status == 403)

                // A form-encoded POST creates a request.
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", key), ("service_code", "noise"), ("lat", "40.7127753"), ("long", "-74.0059728"),
                    ("address_string", "City Hall Park, New York"), ("description", "Party with loud music & drums"),
                    ("attribute[floor]", "3"), ("email", "reporter@example.org"), ("first_name", "Ada"),
                ])
                #expect(status == 201, "\(body)")
                let receipt = try #require(try Self.array(body).first)
                let requestID = try #require(receipt["service_request_id"] as? String)
                #expect(UUID(uuidString: requestID) != nil)
                #expect(receipt["service_notice"] as? String == "")
                #expect(receipt["account_id"] is NSNull)
                try await Self.checkWithPython(body, requireKeys: ["service_request_id", "service_notice", "account_id"])

                // GET requests/{id}.json shows it, open, where it was reported.
                (status, body) = try await HTTPProbe.get(base + "/requests/\(requestID).json?jurisdiction_id=city-311")
                #expect(status == 200, "\(body)")
                let shown = try Self.array(body)
                #expect(shown.count == 1)
                let request = try #require(shown.first)
                #expect(request["service_request_id"] as? String == requestID)
                #expect(request["status"] as? String == "open")
                #expect(request["service_code"] as? String == "noise")
                #expect(request["service_name"] as? String == "Noise")
                #expect(request["lat"] as? Double == 40.7127753)
                #expect(request["long"] as? Double == -74.0059728)
                #expect(request["address"] as? String == "City Hall Park, New York")
                #expect(request["description"] as? String == "Party with loud music & drums")
                #expect((request["requested_datetime"] as? String).flatMap(RFC3339.date(from:)) != nil)
                try await Self.checkWithPython(body, requireKeys: ["service_request_id", "status", "service_code", "lat", "long", "requested_datetime"])
                // Stored through the common path: canonical category, the attribute, no contact data.
                let stored = try #require(try await postgres.query("""
                    SELECT category, document::text FROM incidents WHERE source_id = 'city-311' AND external_id = \(requestID)
                    """).first)
                let (category, documentText) = try stored.decode((String, String).self)
                #expect(category == "noise")
                let document = try Self.object(documentText)
                #expect((document["attributes"] as? [String: String]) == ["floor": "3"])
                #expect(!documentText.contains("reporter@example.org"))
                #expect(!documentText.contains("Ada"))
                (status, _) = try await HTTPProbe.get(base + "/requests/\(requestID).json?jurisdiction_id=county-app")
                #expect(status == 404)
                // A NUL in the id of the path cannot match a stored id; in the body's jurisdiction_id it is a 400.
                (status, _) = try await HTTPProbe.get(base + "/requests/\(requestID)%00.json?jurisdiction_id=city-311")
                #expect(status == 404)
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", key), ("jurisdiction_id", "city-311\u{0}"), ("service_code", "noise"), ("lat", "40.71"), ("long", "-74.0"),
                ])
                #expect(status == 400, "\(body)")
                #expect(try Self.array(body).first?["description"] as? String == "jurisdiction_id contains a NUL character")

                // An address without coordinates is accepted: it becomes the area hint.
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", key), ("service_code", "vandalism"), ("address_string", "Pier 17"), ("description", "Tags on the railing"),
                ])
                #expect(status == 201, "\(body)")
                let vandalismID = try #require(try Self.array(body).first?["service_request_id"] as? String)

                // A sensitive request is listed without description, address or coordinates.
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", key), ("service_code", "sex_offense"), ("lat", "40.70"), ("long", "-74.01"),
                    ("address_string", "1 Secret Lane"), ("description", "Details that must stay private"),
                ])
                #expect(status == 201, "\(body)")
                let sensitiveID = try #require(try Self.array(body).first?["service_request_id"] as? String)
                (status, body) = try await HTTPProbe.get(base + "/requests/\(sensitiveID).json?api_key=" + key)
                #expect(status == 200, "\(body)")
                let sensitive = try #require(try Self.array(body).first)
                #expect(sensitive["service_code"] as? String == "sex_offense")
                #expect(sensitive["status"] as? String == "open")
                for field in ["description", "address", "lat", "long", "media_url"] { #expect(sensitive[field] == nil, "\(field)") }
                #expect(!body.contains("Secret Lane") && !body.contains("private") && !body.contains("40.7"))

                // A closed incident from March 2025, ingested through the JSON door.
                let march = #"{"source":"city-311","external_id":"old-1","category":"Graffiti","occurred_at":"2025-03-14T01:20:00-04:00","closed_at":"2025-03-15T09:00:00-04:00","status":"Closed","location":{"lat":40.71,"lon":-74.0}}"#
                (status, body) = try await HTTPProbe.post(service.baseURL + "/v1/incidents", json: march, bearer: key)
                #expect(status == 202, "\(body)")

                // GET requests.json: the last 90 days by default, filtered by service_code, dates, status, ids.
                (status, body) = try await HTTPProbe.get(base + "/requests.json?jurisdiction_id=city-311")
                #expect(status == 200, "\(body)")
                #expect(Set(try Self.array(body).compactMap { $0["service_request_id"] as? String }) == [requestID, vandalismID, sensitiveID])
                (status, body) = try await HTTPProbe.get(base + "/requests.json?jurisdiction_id=city-311&service_code=noise")
                #expect(try Self.array(body).compactMap { $0["service_request_id"] as? String } == [requestID])
                (status, body) = try await HTTPProbe.get(base + "/requests.json?jurisdiction_id=city-311&service_code=noise,vandalism")
                #expect(Set(try Self.array(body).compactMap { $0["service_request_id"] as? String }) == [requestID, vandalismID])
                (status, body) = try await HTTPProbe.get(
                    base + "/requests.json?jurisdiction_id=city-311&start_date=2025-03-01T00:00:00Z&end_date=2025-03-31T00:00:00Z")
                var listed = try Self.array(body)
                #expect(listed.compactMap { $0["service_request_id"] as? String } == ["old-1"])
                #expect(listed.first?["status"] as? String == "closed")
                #expect(listed.first?["service_code"] as? String == "vandalism")
                #expect(listed.first?["requested_datetime"] as? String == "2025-03-14T05:20:00Z")
                (status, body) = try await HTTPProbe.get(
                    base + "/requests.json?jurisdiction_id=city-311&start_date=2025-03-01T00:00:00Z&end_date=2025-03-31T00:00:00Z&status=open")
                #expect(try Self.array(body).isEmpty)
                let today = Date()
                let window = "start_date=\(RFC3339.string(from: today.addingTimeInterval(-3600)))&end_date=\(RFC3339.string(from: today.addingTimeInterval(3600)))"
                (status, body) = try await HTTPProbe.get(base + "/requests.json?jurisdiction_id=city-311&status=open&" + window)
                #expect(status == 200, "\(body)")
                #expect(try Self.array(body).count == 3)
                (status, body) = try await HTTPProbe.get(base + "/requests.json?api_key=\(key)&service_request_id=old-1,\(vandalismID)")
                listed = try Self.array(body)
                #expect(Set(listed.compactMap { $0["service_request_id"] as? String }) == ["old-1", vandalismID])
                (status, body) = try await HTTPProbe.get(base + "/requests.json?jurisdiction_id=city-311&start_date=2025-01-01T00:00:00Z&end_date=2025-12-31T00:00:00Z")
                #expect(status == 400)
                #expect(try Self.array(body).first?["description"] as? String == "start_date and end_date may not span more than 90 days")

                // Credentials: a bad or missing api_key, or another source's, is a 403 GeoReport error.
                let incidentsBefore = try await Self.count("SELECT count(*) FROM incidents", postgres)
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", "coal_not_a_key"), ("service_code", "noise"), ("lat", "40.71"), ("long", "-74.0"),
                ])
                #expect(status == 403, "\(body)")
                let denied = try #require(try Self.array(body).first)
                #expect(denied["code"] as? Int == 403)
                #expect(denied["description"] as? String == "api_key is invalid or revoked")
                (status, _) = try await Self.postForm(base + "/requests.json", [("service_code", "noise"), ("lat", "40.71"), ("long", "-74.0")])
                #expect(status == 403)
                (status, _) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", otherKey), ("jurisdiction_id", "city-311"), ("service_code", "noise"), ("lat", "40.71"), ("long", "-74.0"),
                ])
                #expect(status == 403)

                // No location: 400 with the reason; nothing stored, the submission kept on incidents.rejected.
                let rejectedBefore = try await Self.count("SELECT count(*) FROM outbox WHERE topic = 'incidents.rejected'", postgres)
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", key), ("service_code", "noise"), ("description", "Somewhere"), ("email", "reporter@example.org"),
                ])
                #expect(status == 400, "\(body)")
                let reasons = try Self.array(body)
                #expect(reasons.allSatisfy { $0["code"] as? Int == 400 })
                #expect(reasons.map { $0["description"] as? String } == ["a location is required: lat and long, or address_string"])
                try await Self.checkWithPython(body, requireKeys: ["code", "description"])
                // An unknown service code is refused too, with every reason at once.
                (status, body) = try await Self.postForm(base + "/requests.json", [
                    ("api_key", key), ("service_code", "potholes"), ("lat", "400"), ("long", "-74.0"),
                ])
                #expect(status == 400)
                #expect(Set(try Self.array(body).compactMap { $0["description"] as? String })
                    == ["lat must be between -90 and 90", "service_code potholes was not found in services.json"])
                #expect(try await Self.count("SELECT count(*) FROM incidents", postgres) == incidentsBefore)
                let rejections = try await postgres.query("""
                    SELECT convert_from(payload, 'UTF8') FROM outbox WHERE topic = 'incidents.rejected' ORDER BY id
                    """).map { try $0.decode(0, as: String.self) }
                #expect(rejections.count == rejectedBefore + 2)
                let kept = try Self.object(try #require(rejections.dropLast().last))
                #expect(kept["channel"] as? String == "open311")
                #expect(kept["source"] as? String == "city-311")
                let original = String(decoding: try #require((kept["original_base64"] as? String).flatMap { Data(base64Encoded: $0) }), as: UTF8.self)
                #expect(original.contains("service_code=noise"))
                #expect(!original.contains(key) && !original.contains("reporter"))
                #expect((kept["reasons"] as? [[String: Any]])?.first?["field"] as? String == "location")

                // Not form-encoded, or too large: GeoReport errors too.
                (status, body) = try await HTTPProbe.post(base + "/requests.json", json: #"{"api_key":"x"}"#, bearer: nil)
                #expect(status == 415)
                #expect(try Self.array(body).first?["code"] as? Int == 415)
                (status, body) = try await Self.postForm(base + "/requests.json", [("api_key", key), ("description", String(repeating: "x", count: 70_000))])
                #expect(status == 413)
                #expect(try Self.array(body).first?["code"] as? Int == 413)

                #expect(try await service.stop() == 0)
            }
        }
    }

    // MARK: - Helpers

    static func array(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "not a JSON array of objects: \(text)")
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func count(_ sql: String, _ postgres: PostgresClient) async throws -> Int {
        try await postgres.query(PostgresQuery(unsafeSQL: sql)).first?.decode(0, as: Int.self) ?? -1
    }

    /// POSTs `fields` as `application/x-www-form-urlencoded`, the way GeoReport clients do.
    static func postForm(_ address: String, _ fields: [(String, String)]) async throws -> (Int, String) {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { name, value in
            let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
            return encode(name) + "=" + encode(value)
        }.joined(separator: "&")
        var request = URLRequest(url: URL(string: address)!)
        request.httpMethod = "POST"
        request.timeoutInterval = 30
        request.httpBody = Data(body.utf8)
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Parses a response with Python's `json` (an independent parser) and checks it is an
    /// array whose objects all carry `requireKeys`.
    static func checkWithPython(_ body: String, requireKeys: [String]) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("open311-\(UUID().uuidString).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys
            data = json.load(open(sys.argv[1], encoding="utf-8"))
            assert isinstance(data, list) and data, "not a non-empty array"
            for item in data:
                missing = [k for k in sys.argv[2:] if k not in item]
                assert not missing, "missing %s" % missing
            print("ok", len(data))
            """
        let python = ProcessInfo.processInfo.environment["COALITION_PYTHON"] ?? "/usr/bin/python3"
        let process = try ChildProcess(URL(fileURLWithPath: python), arguments: ["-c", script, file.path] + requireKeys)
        let status = try await process.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "python json: \(process.standardError)")
        // Output is collected asynchronously; it may arrive just after the exit.
        let line = try await eventually("python's verdict", timeout: .seconds(5)) { process.lines.first }
        #expect(line.hasPrefix("ok"))
    }
}
