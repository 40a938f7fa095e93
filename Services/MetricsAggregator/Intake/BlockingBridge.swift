import Dispatch
import NIOConcurrencyHelpers

/// Runs async work from a thread that may block (librdkafka's rebalance callback on the
/// consume thread) and waits for it. Never call it from the cooperative pool.
enum BlockingBridge {
    /// The result, or `nil` when `body` failed or took longer than `timeout`.
    static func wait<T: Sendable>(timeout: Duration, _ body: @escaping @Sendable () async throws -> T) -> T? {
        let semaphore = DispatchSemaphore(value: 0)
        let result = NIOLockedValueBox<T?>(nil)
        Task {
            let value = try? await body()
            result.withLockedValue { $0 = value }
            semaphore.signal()
        }
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard semaphore.wait(timeout: .now() + .milliseconds(milliseconds)) == .success else { return nil }
        return result.withLockedValue { $0 }
    }
}
