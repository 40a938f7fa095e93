import Foundation

/// A service executable started for one test, on a free port, with its own database and
/// topic prefix; stopped with SIGTERM when the test is done.
public struct ServiceProcess: Sendable {
    public let process: ChildProcess
    public let baseURL: String

    public static func start(_ executable: String, environment: [String: String]) async throws -> ServiceProcess {
        var environment = environment
        environment["COALITION_HTTP_PORT"] = "0"
        environment["COALITION_HTTP_HOST"] = "127.0.0.1"
        environment["COALITION_OUTBOX_POLL_INTERVAL"] = environment["COALITION_OUTBOX_POLL_INTERVAL"] ?? "50ms"
        let process = try ChildProcess(try TestEnvironment.product(executable), environment: environment)
        let port = try await eventually("\(executable) to listen", timeout: .seconds(60)) { () -> Int? in
            if !process.isRunning { throw DeadlineExceeded(what: "\(executable) exited early: \(process.standardError)") }
            return listeningPort(in: process.standardError)
        }
        return ServiceProcess(process: process, baseURL: "http://127.0.0.1:\(port)")
    }

    /// SIGTERM, then the exit status.
    public func stop() async throws -> Int32 {
        process.signal(SIGTERM)
        return try await process.waitForExit(timeout: .seconds(40))
    }

    /// The port from the "HTTP server listening" log line (services started with port 0).
    public static func listeningPort(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("HTTP server listening") }),
              let range = line.range(of: #"127\.0\.0\.1\]?:(\d+)"#, options: .regularExpression) else { return nil }
        return Int(line[range].split(separator: ":").last ?? "")
    }
}
