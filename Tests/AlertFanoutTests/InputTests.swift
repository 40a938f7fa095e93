import Contracts
import Foundation
import Testing
@testable import AlertFanout

/// Stakeholder and subscription validation: each rule with its field and code.
@Suite("Stakeholder and subscription input")
struct InputTests {
    static func codes(_ result: Result<StakeholderInput, FieldErrors>) -> [String] {
        if case .failure(let failure) = result { return failure.errors.map { "\($0.field):\($0.code)" } }
        return []
    }

    static func codes(_ result: Result<SubscriptionInput, FieldErrors>) -> [String] {
        if case .failure(let failure) = result { return failure.errors.map { "\($0.field):\($0.code)" } }
        return []
    }

    @Test("a complete stakeholder parses")
    func valid() throws {
        let result = StakeholderInput.parse([
            "name": "Precinct 14", "role": "law_enforcement", "organization": "NYPD", "timezone": "America/New_York",
            "channels": [["type": "webhook", "url": "https://hooks.example.org/coalition"], ["type": "email", "address": "desk@example.org"],
                         ["type": "sms", "number": "+12125550123"]],
        ] as [String: Any], allowHTTPWebhooks: false)
        let input = try result.get()
        #expect(input.role == .lawEnforcement)
        #expect(input.channels.map(\.type) == [.webhook, .email, .sms])
    }

    @Test("every stakeholder rule reports its field and code, all at once")
    func invalid() {
        let result = StakeholderInput.parse([
            "name": "", "role": "mayor", "timezone": "Mars/Olympus",
            "channels": [["type": "webhook", "url": "http://hooks.example.org/x"], ["type": "email", "address": "not-an-address"],
                         ["type": "sms", "number": "0044 7700 900123"], ["type": "pager"]],
        ] as [String: Any], allowHTTPWebhooks: false)
        #expect(Self.codes(result) == [
            "name:required", "role:unknown_role", "timezone:unknown_timezone", "channels/0/url:https_required",
            "channels/1/address:invalid_email", "channels/2/number:invalid_e164", "channels/3/type:unknown_channel_type",
        ])
    }

    @Test("a time zone must be an IANA name given as a string; an explicit null role is missing")
    func typedFields() {
        #expect(Self.codes(StakeholderInput.parse(["name": "x", "role": NSNull(), "timezone": 5] as [String: Any], allowHTTPWebhooks: false))
                == ["role:required", "timezone:unknown_timezone"])
    }

    @Test("plain http webhooks only when the operator allows them; never with credentials or other schemes")
    func webhookURLs() {
        #expect(StakeholderInput.webhookProblem("http://127.0.0.1:9000/hook", allowHTTP: true) == nil)
        #expect(StakeholderInput.webhookProblem("http://127.0.0.1:9000/hook", allowHTTP: false)?.code == "https_required")
        #expect(StakeholderInput.webhookProblem("ftp://example.org/", allowHTTP: true)?.code == "invalid_url")
        #expect(StakeholderInput.webhookProblem("https://user:pw@example.org/", allowHTTP: false)?.code == "invalid_url")
        #expect(StakeholderInput.webhookProblem("http://user:pw@127.0.0.1/", allowHTTP: true)?.code == "invalid_url")
        #expect(StakeholderInput.webhookProblem("hooks.example.org", allowHTTP: false)?.code == "invalid_url")
    }

    @Test("E.164 numbers and email addresses")
    func contactForms() {
        for good in ["+447700900123", "+12125550123", "+8613800138000"] { #expect(StakeholderInput.isE164(good), "\(good)") }
        for bad in ["447700900123", "+0447700900123", "+1", "+1234567890123456", "+44 7700 900123", "+44-7700"] {
            #expect(!StakeholderInput.isE164(bad), "\(bad)")
        }
        for good in ["a@b.example", "first.last+tag@sub.example.org"] { #expect(StakeholderInput.isEmailAddress(good), "\(good)") }
        for bad in ["a@b", "@b.example", "a b@c.example", "a@@b.example", "a@b..example", "<a@b.example>"] {
            #expect(!StakeholderInput.isEmailAddress(bad), "\(bad)")
        }
    }

    @Test("subscription rules: radius, categories, groups, severity, channels, mode, quiet hours")
    func subscriptionRules() throws {
        let stakeholder = UUID().uuidString
        let channel = UUID().uuidString
        let good = try SubscriptionInput.parse([
            "stakeholder_id": stakeholder, "circle": ["lat": 40.7, "lon": -74.0, "radius_m": 1500], "categories": ["theft"],
            "category_groups": ["person"], "min_severity": 3, "channel_ids": [channel], "mode": "digest_daily",
            "quiet_hours": ["start": "22:00", "end": "07:00"], "notify_closure": true,
        ] as [String: Any]).get()
        #expect(good.circle?.radiusM == 1500)
        #expect(good.quietHours == .init(start: "22:00", end: "07:00"))
        #expect(good.notifyClosure)

        #expect(Self.codes(SubscriptionInput.parse(["stakeholder_id": stakeholder, "channel_ids": [channel], "circle": ["lat": 40.7, "lon": -74.0, "radius_m": 0]] as [String: Any]))
                == ["circle/radius_m:out_of_range"])
        #expect(Self.codes(SubscriptionInput.parse(["stakeholder_id": stakeholder, "channel_ids": [channel], "circle": ["lat": 40.7, "lon": -74.0, "radius_m": 50_001]] as [String: Any]))
                == ["circle/radius_m:out_of_range"])
        #expect(Self.codes(SubscriptionInput.parse([
            "stakeholder_id": "nope", "categories": ["theft", "jaywalking"], "category_groups": ["violent"], "min_severity": 9,
            "channel_ids": [], "mode": "weekly", "quiet_hours": ["start": "25:00", "end": "07:00"],
        ] as [String: Any])) == [
            "stakeholder_id:invalid_uuid", "categories:unknown_category", "category_groups:unknown_category_group", "min_severity:out_of_range",
            "channel_ids:wrong_type", "mode:unknown_mode", "quiet_hours:invalid_quiet_hours",
        ])
    }
}

@Suite("Input PostgreSQL can store")
struct InputStorableTests {
    @Test("NUL characters are refused in every text field, never passed to the database")
    func nul() {
        let stakeholder = StakeholderInput.parse([
            "name": "a\u{0}b", "role": "resident", "organization": "x\u{0}", "channels": [["type": "email", "address": "a\u{0}@b.example"]],
        ] as [String: Any], allowHTTPWebhooks: false)
        #expect(InputTests.codes(stakeholder) == ["channels/0/address:invalid_characters", "name:invalid_characters", "organization:invalid_characters"])
        let subscription = SubscriptionInput.parse(["stakeholder_id": UUID().uuidString, "channel_ids": [UUID().uuidString], "areas": ["mid\u{0}town"]] as [String: Any])
        #expect(InputTests.codes(subscription) == ["areas:wrong_type"])
    }
}
