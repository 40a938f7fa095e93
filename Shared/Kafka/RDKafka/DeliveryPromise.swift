import NIOConcurrencyHelpers

/// One produced record's completion. Passed to librdkafka as the message opaque (retained
/// once); the delivery callback takes that retain back and completes it exactly once.
final class DeliveryPromise: Sendable {
    private let onComplete: @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void
    init(_ onComplete: @escaping @Sendable (Result<KafkaDeliveryReport, KafkaError>) -> Void) {
        self.onComplete = onComplete
    }
    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) { onComplete(result) }
}

/// Collects the reports of a batch and resumes the waiting task when the last one arrives.
final class DeliveryBatch: Sendable {
    private struct State {
        var results: [Result<KafkaDeliveryReport, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>?
    }
    private let state: NIOLockedValueBox<State>

    init(count: Int) {
        state = NIOLockedValueBox(State(results: Array(repeating: nil, count: count), remaining: count, continuation: nil))
    }

    func complete(index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let resume = state.withLockedValue { state -> (CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>, [Result<KafkaDeliveryReport, KafkaError>])? in
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        if let (continuation, results) = resume { continuation.resume(returning: results) }
    }

    func wait() async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> [Result<KafkaDeliveryReport, KafkaError>]? in
                if state.remaining == 0 { return state.results.map { $0! } }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
