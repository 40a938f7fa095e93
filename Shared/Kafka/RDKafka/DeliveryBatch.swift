import NIOConcurrencyHelpers

/// Collects the delivery reports of one `send` call and resumes the waiting task when the last
/// one arrives.
///
/// Each record's librdkafka opaque points at one `Slot` in a buffer the batch owns, so the hot
/// path allocates nothing per record. The batch outlives its reports: `send` awaits `wait()`,
/// which returns only after every enqueued record has been reported.
final class DeliveryBatch: Sendable {
    struct Slot {
        let batch: UnsafeMutableRawPointer
        let index: Int
    }

    private struct State {
        var partitions: [Int32]
        var offsets: [Int64]
        var errors: [Int: KafkaError] = [:]
        var remaining: Int
        var continuation: CheckedContinuation<Void, Never>?
    }

    private let topics: [String]
    private let state: NIOLockedValueBox<State>
    /// Written once in `init`, then only read (by the delivery callback).
    private nonisolated(unsafe) let slots: UnsafeMutablePointer<Slot>

    init(topics: [String]) {
        self.topics = topics
        let count = topics.count
        state = NIOLockedValueBox(State(partitions: Array(repeating: -1, count: count), offsets: Array(repeating: -1, count: count), remaining: count))
        slots = .allocate(capacity: count)
        let me = Unmanaged.passUnretained(self).toOpaque()
        for index in 0..<count { (slots + index).initialize(to: Slot(batch: me, index: index)) }
    }

    deinit {
        slots.deinitialize(count: topics.count)
        slots.deallocate()
    }

    /// The opaque handed to librdkafka for record `index`.
    func opaque(for index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(slots + index) }

    /// Called from the delivery callback with a record's opaque.
    static func complete(opaque: UnsafeMutableRawPointer, partition: Int32, offset: Int64, error: KafkaError?) {
        let slot = opaque.assumingMemoryBound(to: Slot.self).pointee
        Unmanaged<DeliveryBatch>.fromOpaque(slot.batch).takeUnretainedValue()
            .complete(index: slot.index, partition: partition, offset: offset, error: error)
    }

    func complete(index: Int, partition: Int32, offset: Int64, error: KafkaError?) {
        let continuation = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.partitions[index] = partition
            state.offsets[index] = offset
            if let error { state.errors[index] = error }
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }

    func wait() async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state in
                if state.remaining == 0 { return true }
                state.continuation = continuation
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLockedValue { state in
            topics.indices.map { index in
                if let error = state.errors[index] { return .failure(error) }
                return .success(KafkaDeliveryReport(topic: topics[index], partition: state.partitions[index], offset: state.offsets[index]))
            }
        }
    }
}
