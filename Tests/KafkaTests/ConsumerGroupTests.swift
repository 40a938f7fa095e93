import Foundation
import Kafka
import Testing
import TestSupport

@Suite("Consumer groups")
struct ConsumerGroupTests {
    /// Values a member printed as processed.
    static func processed(_ member: ChildProcess) -> Set<String> {
        Set(member.lines.compactMap { $0.hasPrefix("record ") ? String($0.dropFirst(7)) : nil })
    }

    static func latestAssignment(_ member: ChildProcess) -> Set<String>? {
        guard let line = member.lines.last(where: { $0.hasPrefix("assigned ") }) else { return nil }
        return Set(line.dropFirst(9).split(separator: ",").map(String.init))
    }

    @Test("members split partitions; a SIGKILLed member's work moves over; a restart resumes from the commit")
    func failoverAndResume() async throws {
        try await TopicFixture.withTopics(["groupfailover"], partitions: 4) { topics in
            let topic = topics[0]
            let brokers = try TestEnvironment.brokers()
            let group = TestEnvironment.uniqueName("group")
            let memberBinary = try TestEnvironment.product("TestMember")
            let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
            func produce(_ range: Range<Int>) async throws {
                try await producer.sendAll(range.map { KafkaRecord(topic: topic, key: "k\($0)", value: "v\($0)") })
            }
            var expected = Set<String>()

            let memberA = try ChildProcess(memberBinary, arguments: ["group-member", brokers, group, topic])
            let memberB = try ChildProcess(memberBinary, arguments: ["group-member", brokers, group, topic])
            // Both members end up with a share of the four partitions, and the shares are disjoint.
            let (shareA, shareB) = try await eventually("both members to own partitions", timeout: .seconds(60)) { () -> (Set<String>, Set<String>)? in
                guard let a = Self.latestAssignment(memberA), let b = Self.latestAssignment(memberB),
                      !a.isEmpty, !b.isEmpty, a.union(b).count == 4, a.isDisjoint(with: b) else { return nil }
                return (a, b)
            }
            #expect(shareA.isDisjoint(with: shareB))

            try await produce(0..<1000)
            expected.formUnion((0..<1000).map { "v\($0)" })
            try await eventually("both members to process records") {
                !Self.processed(memberA).isEmpty && !Self.processed(memberB).isEmpty
            }
            memberA.signal(SIGKILL)
            try await produce(1000..<2000)
            expected.formUnion((1000..<2000).map { "v\($0)" })
            // Nothing is lost: what A had not committed is redelivered to B.
            try await eventually("every record processed by someone", timeout: .seconds(90)) {
                Self.processed(memberA).union(Self.processed(memberB)).isSuperset(of: expected)
            }
            #expect(Self.latestAssignment(memberB)?.count == 4)

            memberB.signal(SIGTERM)
            #expect(try await memberB.waitForExit(timeout: .seconds(60)) == 0)

            try await produce(2000..<2500)
            let fresh = Set((2000..<2500).map { "v\($0)" })
            let memberC = try ChildProcess(memberBinary, arguments: ["group-member", brokers, group, topic])
            try await eventually("the restarted member to process the new records", timeout: .seconds(90)) {
                Self.processed(memberC).isSuperset(of: fresh)
            }
            // B committed everything it processed on SIGTERM, so C starts exactly after it.
            #expect(Self.processed(memberC) == fresh)
            memberC.signal(SIGTERM)
            #expect(try await memberC.waitForExit(timeout: .seconds(60)) == 0)
            await producer.shutdown()
        }
    }

    @Test("with a two-batch buffer the application still gets every record once, in order")
    func backPressure() async throws {
        try await TopicFixture.withTopics(["backpressure"], partitions: 1) { topics in
            let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
            try await producer.sendAll((0..<3000).map { KafkaRecord(topic: topics[0], key: nil, value: "\($0)") })
            await producer.shutdown()
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(
                    kafka: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("slow"), topics: [topics[0]],
                    sessionTimeout: .seconds(6), maximumBatchSize: 100, bufferedBatches: 2),
                logger: TestEnvironment.logger)
            let values = try await withThrowingTaskGroup(of: [Int]?.self) { group in
                group.addTask { try await consumer.run(); return nil }
                group.addTask {
                    var values: [Int] = []
                    for try await batch in consumer.batches {
                        values += batch.compactMap { Int($0.valueString) }
                        try consumer.markProcessed(batch)
                        // Slow consumer: yields between batches so the buffer fills.
                        await Task.yield()
                        if values.count >= 3000 { break }
                    }
                    return values
                }
                var result: [Int] = []
                while let next = try await group.next() {
                    if let values = next { result = values; consumer.stop() }
                }
                return result
            }
            #expect(values == Array(0..<3000))
        }
    }
}
