import Foundation
import TestSupport

/// A Python judge server from Tests/Judges (SMTP receiver, SMS gateway) as a child process:
/// it prints `listening <port>` and appends one JSON line per request to a record file.
final class RecordingJudge: Sendable {
    let process: ChildProcess
    let record: URL
    let port: Int

    init(_ script: String, arguments: [String] = []) async throws {
        record = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.uniqueName("judge") + ".jsonl")
        _ = FileManager.default.createFile(atPath: record.path, contents: nil)
        process = try ChildProcess(try TestEnvironment.python(), arguments: [
            TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/\(script)").path, "--record", record.path,
        ] + arguments)
        let process = process
        port = try await eventually("\(script) to listen", timeout: .seconds(30)) { () -> Int? in
            if !process.isRunning { throw DeadlineExceeded(what: "\(script) exited: \(process.standardError)") }
            return process.lines.first { $0.hasPrefix("listening ") }.flatMap { Int($0.dropFirst(10)) }
        }
    }

    /// Every record so far, parsed.
    func records() -> [[String: Any]] {
        guard let text = try? String(contentsOf: record, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func stop() async {
        process.signal(SIGTERM)
        _ = try? await process.waitForExit(timeout: .seconds(10))
        try? FileManager.default.removeItem(at: record)
    }
}
