import Contracts
import Foundation
import Testing
import TestSupport
@testable import AlertFanout

/// The public OASIS CAP 1.2 feed, checked by an independent validator (the OASIS CAP 1.2 XML
/// schema plus the spec's own rules, in Python with lxml).
@Suite("CAP feed", .serialized)
struct CAPFeedTests {
    @Test("Alert, Update and Cancel follow an incident's revisions; sensitive and minor incidents stay out; the feed validates")
    func feed() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutcap") + "."
            try await TopicFixture.withNamedTopics(WebhookDeliveryTests.topics(prefix)) {
                let service = try await WebhookDeliveryTests.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true, extra: [
                    "COALITION_CAP_SENDER": "alerts@coalition.example",
                ])
                let id = UUID()
                var first = Fixtures.incident(id: id, revision: 1, category: .burglary, area: "riverside", description: "Break-in at <No. 5> & the shop")
                first.severity = 3
                var second = first
                second.revision = 2
                second.severity = 4
                var third = second
                third.revision = 3
                third.closedAt = Date()
                third.status = "closed"
                let sensitive = Fixtures.incident(category: .sexOffense, area: "riverside")
                // Published, then re-classified as sensitive: the Cancel must not say what it became.
                var public1 = Fixtures.incident(category: .robbery, area: "harbour", description: "robbery at the pier")
                public1.severity = 4
                var reclassified = public1
                reclassified.revision = 2
                reclassified.category = .sexOffense
                reclassified.categoryGroup = .person
                reclassified.sensitive = true
                reclassified.description = "details that must stay private"
                let minor = Fixtures.incident(category: .noise, area: "riverside")
                try await WebhookDeliveryTests.publish([first, sensitive, minor], topic: prefix + "incidents.normalized")
                try await WebhookDeliveryTests.publish([second], topic: prefix + "incidents.normalized")
                try await WebhookDeliveryTests.publish([third, public1], topic: prefix + "incidents.normalized")
                try await WebhookDeliveryTests.publish([reclassified], topic: prefix + "incidents.normalized")

                let feedURL = service.baseURL + "/v1/cap/alerts.xml"
                try await eventually("three CAP messages", timeout: .seconds(60)) {
                    let (_, body) = try await HTTPProbe.get(feedURL)
                    return body.components(separatedBy: "<entry>").count - 1 == 5
                }
                let check = try ChildProcess(try TestEnvironment.python(), arguments: [
                    TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/cap_check.py").path, feedURL,
                ])
                let status = try await check.waitForExit(timeout: .seconds(60))
                let report = try #require(try JSONSerialization.jsonObject(with: Data(check.lines.joined().utf8)) as? [String: Any])
                #expect(status == 0, "\(report["errors"] ?? "") \(check.standardError)")
                let all = try #require(report["alerts"] as? [[String: Any]])
                let alerts = all.filter { ($0["identifier"] as? String)?.contains(id.uuidString.lowercased()) == true }
                    .sorted { ($0["identifier"] as? String ?? "") < ($1["identifier"] as? String ?? "") }
                let withdrawn = try #require(all.first { $0["identifier"] as? String == CAPMessage.identifier(incident: public1.id, revision: 2) })
                #expect(withdrawn["msgType"] as? String == "Cancel")
                let (_, cancelDocument) = try await HTTPProbe.get(service.baseURL + "/v1/cap/alerts/\(CAPMessage.identifier(incident: public1.id, revision: 2)).xml")
                #expect(!cancelDocument.contains("must stay private"))
                #expect(!cancelDocument.lowercased().contains("sex"))
                #expect(!cancelDocument.contains("<circle>"))
                #expect(alerts.map { $0["msgType"] as? String } == ["Alert", "Update", "Cancel"])
                #expect(alerts.map { $0["identifier"] as? String } == (1...3).map { CAPMessage.identifier(incident: id, revision: $0) })
                #expect(alerts.allSatisfy { $0["scope"] as? String == "Public" && $0["status"] as? String == "Actual" })
                #expect((alerts[1]["references"] as? String)?.contains(CAPMessage.identifier(incident: id, revision: 1)) == true)
                #expect((alerts[2]["references"] as? String)?.contains(CAPMessage.identifier(incident: id, revision: 2)) == true)
                let severities = alerts.compactMap { (($0["info"] as? [[String: Any]])?.first)?["severity"] as? String }
                #expect(severities == ["Moderate", "Severe", "Severe"])
                let (_, body) = try await HTTPProbe.get(feedURL)
                #expect(!body.contains(sensitive.id.uuidString.lowercased()))
                #expect(!body.contains(minor.id.uuidString.lowercased()))
                let (missing, _) = try await HTTPProbe.get(service.baseURL + "/v1/cap/alerts/nope.xml")
                #expect(missing == 404)
                #expect(try await service.stop() == 0)
            }
        }
    }
}
