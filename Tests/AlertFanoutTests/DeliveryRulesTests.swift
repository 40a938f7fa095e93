import Foundation
import Testing
import TestSupport
@testable import AlertFanout

/// Signatures (checked against the spec's example and an independent Python implementation),
/// the private-address guard, and the retry schedule.
@Suite("Delivery rules")
struct DeliveryRulesTests {
    @Test("Standard Webhooks: the specification's example signature")
    func specificationExample() {
        let signature = WebhookSignature.sign(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8),
            secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("an independent implementation (Python hmac) accepts our signatures, with either secret during rotation, and refuses a tampered body")
    func independentVerification() async throws {
        let current = WebhookSecret.generate()
        let previous = WebhookSecret.generate()
        let body = Array(#"{"type":"coalition.alert.v1","incident":{"description":"ünïcode ✓"}}"#.utf8)
        let signature = WebhookSignature.sign(id: "d-1", timestamp: 1_700_000_000, body: body, secrets: [current, previous])
        #expect(signature.split(separator: " ").count == 2)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("body"))
        defer { try? FileManager.default.removeItem(at: file) }
        func verify(_ secrets: [String], body: [UInt8]) async throws -> Int32 {
            try Data(body).write(to: file)
            let judge = try ChildProcess(try TestEnvironment.python(), arguments: [
                TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/webhook_receiver.py").path, "verify",
            ] + secrets.flatMap { ["--secret", $0] } + ["--id", "d-1", "--timestamp", "1700000000", "--signature", signature, "--body-file", file.path])
            return try await judge.waitForExit(timeout: .seconds(30))
        }
        #expect(try await verify([current], body: body) == 0)
        #expect(try await verify([previous], body: body) == 0, "the previous secret still verifies during rotation")
        #expect(try await verify([WebhookSecret.generate()], body: body) == 1)
        var tampered = body
        tampered[tampered.count - 3] ^= 0x01
        #expect(try await verify([current], body: tampered) == 1)
    }

    @Test("private, loopback, link-local and metadata targets are refused unless their network is allowed")
    func targetGuard() async {
        let strict = TargetGuard()
        for host in ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.10", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "[::1]",
                     "fe80::1", "fd12:3456::1", "::ffff:127.0.0.1", "localhost"] {
            guard case .refused = await strict.check(host: host) else {
                Issue.record("\(host) should be refused")
                continue
            }
        }
        for host in ["93.184.215.14", "8.8.8.8", "2606:4700::1111"] {
            #expect(await strict.check(host: host) == .allowed, "\(host)")
        }
        let local = TargetGuard(allowed: [TargetGuard.Network("127.0.0.0/8")!])
        #expect(await local.check(host: "127.0.0.1") == .allowed)
        guard case .refused = await local.check(host: "10.0.0.1") else {
            Issue.record("allowing loopback must not allow other private networks")
            return
        }
        #expect(TargetGuard.Network("10.0.0.0/33") == nil)
        #expect(TargetGuard.Network("nonsense") == nil)
    }

    @Test("backoff: full jitter under a doubling ceiling, Retry-After wins, give up after the limit")
    func retrySchedule() {
        let schedule = RetrySchedule(initial: .seconds(2), maximum: .seconds(60), giveUpAfter: .seconds(3600))
        #expect(schedule.ceiling(afterAttempt: 1) == 2)
        #expect(schedule.ceiling(afterAttempt: 3) == 8)
        #expect(schedule.ceiling(afterAttempt: 10) == 60)
        let created = Date(timeIntervalSince1970: 1_000_000)
        var ranges: [ClosedRange<Double>] = []
        let next = schedule.nextAttempt(afterAttempt: 3, firstCreated: created, now: created, retryAfter: nil) { range in
            ranges.append(range)
            return range.upperBound
        }
        #expect(ranges == [0...8])
        #expect(next == created.addingTimeInterval(8))
        #expect(schedule.nextAttempt(afterAttempt: 1, firstCreated: created, now: created, retryAfter: 120) == created.addingTimeInterval(120))
        #expect(schedule.nextAttempt(afterAttempt: 9, firstCreated: created, now: created.addingTimeInterval(3590), retryAfter: 30) == nil)
        #expect(WebhookSender.retryAfter("7", now: created) == 7)
        #expect(WebhookSender.retryAfter("Mon, 12 Jan 1970 14:20:10 GMT", now: created) == 2010)
    }

    @Test("the delivery state machine allows exactly the documented transitions")
    func stateMachine() {
        let allowed: Set<String> = [
            "pending>sending", "retrying>sending", "sending>delivered", "sending>failed", "sending>retrying", "sending>suppressed",
            "pending>cancelled", "retrying>cancelled", "pending>suppressed", "retrying>suppressed",
        ]
        for from in DeliveryState.allCases {
            for to in DeliveryState.allCases {
                #expect(from.canMove(to: to) == allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from) → \(to)")
            }
        }
        #expect(DeliveryState.allCases.filter(\.isTerminal) == [.delivered, .failed, .cancelled, .suppressed])
    }
}
