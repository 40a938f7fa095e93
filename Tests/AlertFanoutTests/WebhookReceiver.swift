import Foundation
import TestSupport

/// Tests/Judges/webhook_receiver.py as a child process: answers by a script and records every
/// request, with its own Standard Webhooks signature check.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var receivedAt: Double
        var webhookID: String?
        var timestamp: String?
        var signature: String?
        var body: String
        var signatureValid: Bool
        var status: Int
    }

    let process: ChildProcess
    let record: URL
    let port: Int

    init(script: String, secrets: [String] = []) async throws {
        record = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("webhooks") + ".jsonl")
        _ = FileManager.default.createFile(atPath: record.path, contents: nil)
        process = try ChildProcess(try TestEnvironment.python(), arguments: [
            TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/webhook_receiver.py").path, "--record", record.path, "--script", script,
        ] + secrets.flatMap { ["--secret", $0] })
        let process = process
        port = try await eventually("the webhook receiver to listen", timeout: .seconds(30)) { () -> Int? in
            process.lines.first { $0.hasPrefix("listening ") }.flatMap { Int($0.dropFirst(10)) }
        }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    var received: [Received] {
        guard let text = try? String(contentsOf: record, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Received(
                path: object["path"] as? String ?? "", receivedAt: (object["received_at"] as? NSNumber)?.doubleValue ?? 0,
                webhookID: object["webhook_id"] as? String, timestamp: object["webhook_timestamp"] as? String,
                signature: object["webhook_signature"] as? String, body: object["body"] as? String ?? "",
                signatureValid: object["signature_valid"] as? Bool ?? false, status: (object["status"] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// Checks a recorded request's signature with the judge's own implementation.
    static func verify(_ request: Received, secrets: [String]) async throws -> Bool {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("body"))
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(request.body.utf8).write(to: file)
        let judge = try ChildProcess(try TestEnvironment.python(), arguments: [
            TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/webhook_receiver.py").path, "verify",
        ] + secrets.flatMap { ["--secret", $0] } + [
            "--id", request.webhookID ?? "", "--timestamp", request.timestamp ?? "", "--signature", request.signature ?? "", "--body-file", file.path,
        ])
        return try await judge.waitForExit(timeout: .seconds(30)) == 0
    }

    func stop() async {
        process.signal(SIGTERM)
        _ = try? await process.waitForExit(timeout: .seconds(10))
        try? FileManager.default.removeItem(at: record)
    }
}
