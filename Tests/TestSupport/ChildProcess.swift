import Foundation
import NIOConcurrencyHelpers

/// A child process whose output is collected line by line, that tests can signal (SIGTERM,
/// SIGKILL) and await.
public final class ChildProcess: Sendable {
    private let process: Process
    private let output = NIOLockedValueBox<[String]>([])
    private let errorOutput = NIOLockedValueBox<String>("")

    public init(_ executable: URL, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        let pending = NIOLockedValueBox<String>("")
        stdout.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            guard !data.isEmpty else { return }
            pending.withLockedValue { buffer in
                buffer += String(decoding: data, as: UTF8.self)
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: "\n") {
                    lines.append(String(buffer[..<newline]))
                    buffer = String(buffer[buffer.index(after: newline)...])
                }
                if !lines.isEmpty { output.withLockedValue { $0.append(contentsOf: lines) } }
            }
        }
        stderr.fileHandleForReading.readabilityHandler = { [errorOutput] handle in
            let data = handle.availableData
            guard !data.isEmpty else { return }
            errorOutput.withLockedValue { $0 += String(decoding: data, as: UTF8.self) }
        }
        self.process = process
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var lines: [String] { output.withLockedValue { $0 } }
    public var standardError: String { errorOutput.withLockedValue { $0 } }
    public var isRunning: Bool { process.isRunning }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit (polling, bounded) and returns the status; a signal death is 128+n.
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        try await eventually("process \(process.processIdentifier) to exit", timeout: timeout, interval: .milliseconds(50)) {
            process.isRunning ? nil : (process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus)
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
