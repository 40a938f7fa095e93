import NIOConcurrencyHelpers

/// Wakes the publisher as soon as a flush has committed new log rows, so a metric reaches its
/// topic without waiting for the next poll. A signal raised while nobody waits is kept.
final class UpdateSignal: Sendable {
    private let state = NIOLockedValueBox<(raised: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func raise() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            if state.waiter == nil { state.raised = true }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns when raised, or after `timeout`.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let raised = self.state.withLockedValue { state -> Bool in
                        if state.raised {
                            state.raised = false
                            return true
                        }
                        state.waiter?.resume()
                        state.waiter = continuation
                        return false
                    }
                    if raised { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            // The sleeping child ends on cancellation; release the waiting one too.
            self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }
}
