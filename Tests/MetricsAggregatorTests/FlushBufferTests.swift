import Foundation
import Kafka
import Testing
@testable import MetricsAggregator

/// The hand-over between the reader and the applier: flushes are bounded, a lone record
/// waits at most the delay, the reader waits while the buffer is full, and finishing hands
/// over what is left.
@Suite("Flushes between reader and applier")
struct FlushBufferTests {
    static func records(_ range: Range<Int>) -> [DecodedRecord] {
        range.map { DecodedRecord(message: KafkaMessage(topic: "t", partition: 0, offset: Int64($0), key: nil, value: [], headers: [], timestamp: nil), input: .ignored) }
    }

    @Test("a flush takes what waits, at most the maximum, oldest first")
    func bounded() async {
        let buffer = FlushBuffer(maximum: 10, delay: .milliseconds(1))
        await buffer.push(Self.records(0..<4))
        let reader = Task { await buffer.push(Self.records(4..<25)) }   // waits: 25 > 10
        let first = await buffer.next()
        #expect(first?.count ?? 0 <= 10)
        var offsets = first?.map(\.message.offset) ?? []
        while offsets.count < 25, let next = await buffer.next() {
            #expect(next.count <= 10)
            offsets += next.map(\.message.offset)
        }
        await reader.value
        #expect(offsets == (0..<25).map(Int64.init))
    }

    @Test("the state machine waits for the delay unless full or finished")
    func timing() {
        let now = ContinuousClock.now
        var machine = FlushBuffer.StateMachine(maximum: 3)
        if case .waitForRecords = machine.next(delay: .seconds(1), now: now) {} else { Issue.record("empty buffer must wait for records") }
        _ = machine.push(Self.records(0..<1), at: now)
        if case .waitUntil(let deadline) = machine.next(delay: .seconds(1), now: now) { #expect(deadline == now + .seconds(1)) } else {
            Issue.record("a lone record waits for the delay")
        }
        if case .take(let records, _) = machine.next(delay: .seconds(1), now: now + .seconds(1)) { #expect(records.count == 1) } else {
            Issue.record("after the delay it is taken")
        }
        _ = machine.push(Self.records(1..<5), at: now)
        #expect(machine.full)
        if case .take(let records, _) = machine.next(delay: .seconds(1), now: now) { #expect(records.map(\.message.offset) == [1, 2, 3]) } else {
            Issue.record("a full buffer is taken at once")
        }
        _ = machine.finish()
        if case .take(let records, _) = machine.next(delay: .seconds(1), now: now) { #expect(records.map(\.message.offset) == [4]) } else {
            Issue.record("finishing hands over the rest")
        }
        if case .finished = machine.next(delay: .seconds(1), now: now) {} else { Issue.record("then it is finished") }
    }

    @Test("finish wakes a waiting applier, which then ends")
    func finishWakes() async {
        let buffer = FlushBuffer(maximum: 10, delay: .seconds(60))
        let applier = Task { await buffer.next() }
        try? await Task.sleep(for: .milliseconds(50))
        buffer.finish()
        #expect(await applier.value == nil)
    }
}
