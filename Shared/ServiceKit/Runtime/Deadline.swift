/// Thrown when an operation outlives its deadline.
public struct DeadlineError: Error, CustomStringConvertible {
    public let duration: Duration
    public var description: String { "no answer within \(duration)" }
}

/// Runs `operation`, giving up after `duration`. Start-up uses it so an unreachable
/// dependency becomes a clear error, never a hang.
public func withDeadline<T: Sendable>(_ duration: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw DeadlineError(duration: duration)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
