import NIOConcurrencyHelpers

/// Hands decoded records from the reader (Kafka → decode) to the applier (one PostgreSQL
/// transaction per flush) so that both run at once: while a flush commits, the next one
/// fills up.
///
/// A flush is everything waiting, up to `maximum` records, taken once the oldest has waited
/// `delay` (or at once when the buffer is full or the previous flush took longer than that).
/// Under a backlog flushes grow to `maximum`, so rows that many records touch are written
/// once per flush; at a trickle a record waits at most `delay`. The reader waits while
/// `maximum` records are pending, which pauses fetching.
final class FlushBuffer: Sendable {
    struct StateMachine {
        let maximum: Int
        var pending: [DecodedRecord] = []
        var firstArrival: ContinuousClock.Instant?
        var finished = false
        var applier: CheckedContinuation<Void, Never>?
        var readers: [CheckedContinuation<Void, Never>] = []

        /// Adds records; returns the applier to wake, if it waits.
        mutating func push(_ records: [DecodedRecord], at now: ContinuousClock.Instant) -> CheckedContinuation<Void, Never>? {
            if pending.isEmpty { firstArrival = now }
            pending.append(contentsOf: records)
            defer { applier = nil }
            return applier
        }

        /// Whether a reader must wait for the applier before pushing more.
        var full: Bool { pending.count >= maximum && !finished }

        enum Next {
            case take([DecodedRecord], wake: [CheckedContinuation<Void, Never>])
            case waitUntil(ContinuousClock.Instant)
            case waitForRecords
            case finished
        }

        mutating func next(delay: Duration, now: ContinuousClock.Instant) -> Next {
            guard !pending.isEmpty else { return finished ? .finished : .waitForRecords }
            if let first = firstArrival, pending.count < maximum, !finished, now < first + delay { return .waitUntil(first + delay) }
            let taken: [DecodedRecord]
            if pending.count <= maximum {
                taken = pending
                pending = []
                firstArrival = nil
            } else {
                taken = Array(pending.prefix(maximum))
                pending.removeFirst(maximum)
                firstArrival = now
            }
            defer { readers = [] }
            return .take(taken, wake: readers)
        }

        mutating func finish() -> [CheckedContinuation<Void, Never>] {
            finished = true
            var waiting = readers
            readers = []
            if let applier { waiting.append(applier) }
            applier = nil
            return waiting
        }
    }

    private let state: NIOLockedValueBox<StateMachine>
    let delay: Duration

    init(maximum: Int, delay: Duration) {
        self.state = NIOLockedValueBox(StateMachine(maximum: max(1, maximum)))
        self.delay = delay
    }

    /// Adds decoded records; waits while `maximum` are pending.
    func push(_ records: [DecodedRecord]) async {
        state.withLockedValue { $0.push(records, at: .now) }?.resume()
        while state.withLockedValue({ $0.full }), !Task.isCancelled {
            await withCheckedContinuation { continuation in
                let waiting = state.withLockedValue { state in
                    guard state.full else { return false }
                    state.readers.append(continuation)
                    return true
                }
                if !waiting { continuation.resume() }
            }
        }
    }

    /// The next flush, or `nil` once `finish()` was called and everything was taken.
    func next() async -> [DecodedRecord]? {
        while true {
            switch state.withLockedValue({ $0.next(delay: delay, now: .now) }) {
            case .take(let records, let wake):
                for reader in wake { reader.resume() }
                return records
            case .finished:
                return nil
            case .waitUntil(let deadline):
                try? await Task.sleep(until: deadline)
                if Task.isCancelled { _ = finish() }
            case .waitForRecords:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = state.withLockedValue { state in
                            guard state.pending.isEmpty, !state.finished else { return true }
                            state.applier = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    _ = self.finish()
                }
            }
        }
    }

    /// No more records will come: the applier takes what is left and ends.
    @discardableResult
    func finish() -> Int {
        let waiting = state.withLockedValue { $0.finish() }
        for continuation in waiting { continuation.resume() }
        return waiting.count
    }
}
