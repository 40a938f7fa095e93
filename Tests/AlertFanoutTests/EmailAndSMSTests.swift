import Contracts
import Foundation
import Kafka
import Testing
import TestSupport
@testable import AlertFanout

/// Email received by a real SMTP server (aiosmtpd, parsed with Python's email package) and SMS
/// received by a local gateway speaking Twilio's Messages API, from the running fan-out.
@Suite("Email and SMS delivery", .serialized)
struct EmailAndSMSTests {
    @Test("an alert reaches an email inbox (text + HTML, authenticated) and a phone (≤ 320 characters); sensitive detail withheld")
    func emailAndSMS() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutmail") + "."
            try await TopicFixture.withNamedTopics(WebhookDeliveryTests.topics(prefix)) {
                let smtp = try await RecordingJudge("smtp_receiver.py", arguments: ["--require-auth", "coalition:s3cret pass"])
                let gateway = try await RecordingJudge("sms_gateway.py", arguments: ["--account-sid", "AC0123456789", "--auth-token", "token-1"])
                let service = try await WebhookDeliveryTests.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true, extra: [
                    "COALITION_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "COALITION_SMTP_SECURITY": "none",
                    "COALITION_SMTP_USERNAME": "coalition", "COALITION_SMTP_PASSWORD": "s3cret pass", "COALITION_SMTP_FROM": "alerts@coalition.example",
                    "COALITION_SMS_BASE_URL": "http://127.0.0.1:\(gateway.port)", "COALITION_SMS_ACCOUNT_SID": "AC0123456789",
                    "COALITION_SMS_AUTH_TOKEN": "token-1", "COALITION_SMS_FROM": "+15005550006",
                ])
                let base = service.baseURL + "/v1"
                let (status, stakeholder) = try await WebhookDeliveryTests.send("POST", base + "/stakeholders", [
                    "name": "Tenants' association", "role": "neighborhood_association", "timezone": "America/New_York",
                    "channels": [["type": "email", "address": "chair@tenants.example"], ["type": "sms", "number": "+12125550123"]],
                ])
                #expect(status == 201)
                let channels = try #require(stakeholder["channels"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                _ = try await WebhookDeliveryTests.send("POST", base + "/subscriptions", ["stakeholder_id": stakeholder["id"]!, "channel_ids": channels])

                let longDescription = String(repeating: "Loud party with amplified music on the roof. ", count: 12)
                let noise = Fixtures.incident(category: .noise, area: "riverside", description: longDescription)
                let sensitive = Fixtures.incident(category: .domesticViolence, area: "riverside", description: "names and flat number")
                try await WebhookDeliveryTests.publish([noise, sensitive], topic: prefix + "incidents.normalized")

                let mails = try await eventually("the email", timeout: .seconds(60)) { () -> [[String: Any]]? in
                    let records = smtp.records()
                    return records.count >= 2 ? records : nil
                }
                for mail in mails {
                    #expect(mail["auth_user"] as? String == "coalition")
                    #expect(mail["mail_from"] as? String == "alerts@coalition.example")
                    #expect(mail["rcpt_tos"] as? [String] == ["chair@tenants.example"])
                    #expect((mail["subject"] as? String)?.hasPrefix("[Coalition]") == true)
                    #expect((mail["attachments"] as? [Any])?.isEmpty == true)
                }
                let noiseMail = try #require(mails.first { ($0["text"] as? String)?.contains(noise.id.uuidString.lowercased()) == true })
                #expect((noiseMail["subject"] as? String)?.contains("Noise in riverside") == true)
                #expect((noiseMail["text"] as? String)?.contains("Loud party with amplified music") == true)
                #expect((noiseMail["html"] as? String)?.contains("<strong>Noise in riverside") == true)
                let sensitiveMail = try #require(mails.first { ($0["text"] as? String)?.contains(sensitive.id.uuidString.lowercased()) == true })
                #expect((sensitiveMail["text"] as? String)?.contains("names and flat number") == false)
                #expect((sensitiveMail["text"] as? String)?.contains("details withheld") == true)

                let messages = try await eventually("the text messages", timeout: .seconds(60)) { () -> [[String: Any]]? in
                    let records = gateway.records().filter { ($0["status"] as? Int) == 201 }
                    return records.count >= 2 ? records : nil
                }
                for message in messages {
                    let form = try #require(message["form"] as? [String: Any])
                    #expect(message["auth_ok"] as? Bool == true)
                    #expect(form["To"] as? String == "+12125550123")
                    #expect(form["From"] as? String == "+15005550006")
                    let body = try #require(form["Body"] as? String)
                    #expect(body.count <= 320)
                    #expect(!body.contains("names and flat number"))
                }
                #expect(messages.contains { ($0["form"] as? [String: Any])?["Body"].map { "\($0)".hasSuffix("…") } == true }, "the long one is cut to fit")

                // The gateway records a message before it answers, so the result may not be recorded yet.
                try await eventually("all four deliveries recorded as delivered", timeout: .seconds(30)) {
                    let (_, list) = try await WebhookDeliveryTests.send("GET", base + "/deliveries?state=delivered")
                    return (list["deliveries"] as? [[String: Any]])?.count == 4
                }
                #expect(try await service.stop() == 0)
                await smtp.stop()
                await gateway.stop()
            }
        }
    }

    @Test("a requested alert (a meeting invitation) goes out once per channel, by email with its .ics intact and by webhook; no recipient → dead letter")
    func requestedAlerts() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutreq") + "."
            try await TopicFixture.withNamedTopics(WebhookDeliveryTests.topics(prefix)) {
                let smtp = try await RecordingJudge("smtp_receiver.py")
                let receiver = try await WebhookReceiver(script: "200")
                let service = try await WebhookDeliveryTests.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true, extra: [
                    "COALITION_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "COALITION_SMTP_SECURITY": "none",
                ])
                let base = service.baseURL + "/v1"
                let (_, stakeholder) = try await WebhookDeliveryTests.send("POST", base + "/stakeholders", [
                    "name": "Council member", "role": "local_government",
                    "channels": [["type": "email", "address": "member@council.example"], ["type": "webhook", "url": receiver.url("/council")]],
                ])
                let stakeholderID = try #require(UUID(uuidString: stakeholder["id"] as? String ?? ""))
                let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Coalition//Test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:m-1@coalition\r\nDTSTAMP:20250314T090000Z\r\nDTSTART:20250316T220000Z\r\nSUMMARY:Emergency meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                let request = AlertRequest(
                    requestId: UUID(), idempotencyKey: "meeting:m-1:invitation", kind: "meeting_invitation", requestedBy: "meeting-scheduler",
                    recipients: [.init(stakeholderId: stakeholderID)], subject: "Emergency coalition meeting: Riverside",
                    body: "Please join on 16 March, 18:00.", meetingId: UUID().uuidString.lowercased(),
                    attachments: [.init(filename: "invite.ics", contentType: "text/calendar; method=REQUEST", contentBase64: Data(ics.utf8).base64EncodedString())])
                let nobody = AlertRequest(requestId: UUID(), kind: "notice", recipients: [.init(stakeholderId: UUID())], subject: "x", body: "y")
                let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
                let topic = prefix + "alerts.requested"
                var records: [KafkaRecord] = []
                for item in [request, request, nobody] {
                    records.append(try CloudEvent(id: UUID().uuidString.lowercased(), source: "/test", type: EventType.alertRequested, payload: item)
                        .kafkaRecord(topic: topic, key: item.requestId.uuidString.lowercased()))
                }
                records.append(KafkaRecord(topic: topic, key: "bad", value: "{not json"))
                try await producer.sendAll(records)
                await producer.shutdown()

                let mail = try await eventually("the invitation email", timeout: .seconds(60)) { smtp.records().first }
                #expect(mail["subject"] as? String == "[Coalition] Emergency coalition meeting: Riverside")
                let attachment = try #require((mail["attachments"] as? [[String: Any]])?.first)
                #expect(attachment["filename"] as? String == "invite.ics")
                #expect((attachment["content_type"] as? String)?.hasPrefix("text/calendar; method=REQUEST") == true)
                #expect(attachment["content"] as? String == ics, "the .ics arrives byte for byte")
                let hook = try await eventually("the webhook", timeout: .seconds(60)) { receiver.received.first }
                #expect(hook.body.contains(#""kind":"meeting_invitation""#))

                let dead = try await TopicFixture.readAll(topic: prefix + "alerts.requested.dlt", timeout: .seconds(60)) { $0.count >= 2 }
                let codes = Set(dead.compactMap { $0.header("coalition_dlt_error_code")?.stringValue })
                #expect(codes == ["no_recipient", "invalid_alert_request"])
                // The repeated request sent nothing more.
                let (_, list) = try await WebhookDeliveryTests.send("GET", base + "/deliveries")
                #expect((list["deliveries"] as? [[String: Any]])?.count == 2)
                #expect(smtp.records().count == 1)
                #expect(receiver.received.count == 1)
                #expect(try await service.stop() == 0)
                await smtp.stop()
                await receiver.stop()
            }
        }
    }

    @Test("an SMS gateway refusing the credentials (401) fails the delivery at once; without an SMTP server email is suppressed, saying why")
    func refusals() async throws {
        try await withTemporaryDatabase { databaseURL in
            let prefix = TestEnvironment.uniqueName("fanoutsms") + "."
            try await TopicFixture.withNamedTopics(WebhookDeliveryTests.topics(prefix)) {
                let gateway = try await RecordingJudge("sms_gateway.py", arguments: ["--account-sid", "AC1", "--auth-token", "t"])
                let service = try await WebhookDeliveryTests.start(databaseURL: databaseURL, prefix: prefix, allowLoopback: true, extra: [
                    "COALITION_SMS_BASE_URL": "http://127.0.0.1:\(gateway.port)", "COALITION_SMS_ACCOUNT_SID": "AC1",
                    "COALITION_SMS_AUTH_TOKEN": "wrong", "COALITION_SMS_FROM": "+15005550006",
                ])
                let base = service.baseURL + "/v1"
                let (_, stakeholder) = try await WebhookDeliveryTests.send("POST", base + "/stakeholders", [
                    "name": "Shop", "role": "business", "channels": [["type": "sms", "number": "+12125550199"], ["type": "email", "address": "shop@example.org"]],
                ])
                let channels = try #require(stakeholder["channels"] as? [[String: Any]]).compactMap { $0["id"] as? String }
                let (subscribed, answer) = try await WebhookDeliveryTests.send("POST", base + "/subscriptions", ["stakeholder_id": stakeholder["id"]!, "channel_ids": channels])
                #expect(subscribed == 201, "\(answer)")
                try await WebhookDeliveryTests.publish([Fixtures.incident(severity: 4)], topic: prefix + "incidents.normalized")
                let rows = try await eventually("both deliveries to end", timeout: .seconds(60)) { () -> [[String: Any]]? in
                    let (_, list) = try await WebhookDeliveryTests.send("GET", base + "/deliveries")
                    let rows = list["deliveries"] as? [[String: Any]] ?? []
                    return rows.count == 2 && rows.allSatisfy { ["failed", "suppressed"].contains($0["state"] as? String ?? "") } ? rows : nil
                }
                let sms = try #require(rows.first { $0["channel"] as? String == "sms" })
                #expect(sms["state"] as? String == "failed")
                #expect(sms["attempts"] as? Int == 1)
                #expect((sms["last_error"] as? String)?.contains("401") == true)
                let email = try #require(rows.first { $0["channel"] as? String == "email" })
                #expect(email["state"] as? String == "suppressed")
                #expect((email["last_error"] as? String)?.contains("COALITION_SMTP_URL") == true)
                #expect(try await service.stop() == 0)
                await gateway.stop()
            }
        }
    }
}
