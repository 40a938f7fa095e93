import Foundation

public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "gave up waiting for \(what)" }
}

/// Polls `condition` until it returns a value or the deadline passes. Tests synchronise with
/// this, never with fixed sleeps.
public func eventually<T>(
    _ what: String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100),
    _ condition: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if let value = try await condition() { return value }
        if ContinuousClock.now >= deadline { throw DeadlineExceeded(what: what) }
        try await Task.sleep(for: interval)
    }
}

public func eventually(
    _ what: String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    let _: Bool = try await eventually(what, timeout: timeout, interval: interval) { try await condition() ? true : nil }
}
