import Foundation
import NIOConcurrencyHelpers

/// A dedicated thread that keeps serving a producer's delivery reports, logs and statistics.
/// librdkafka only invokes those callbacks from inside `rd_kafka_poll`, and polling blocks, so
/// it gets its own thread rather than a slot on the cooperative pool.
final class RDKafkaPollThread: Sendable {
    private let stopped = NIOLockedValueBox(false)
    private let completion = Completion()

    init(client: RDKafkaClient, name: String) {
        let thread = Thread { [stopped, completion] in
            while !stopped.withLockedValue({ $0 }) {
                client.poll(timeoutMs: 100)
            }
            completion.finish()
        }
        thread.name = name
        thread.start()
    }

    func stop() { stopped.withLockedValue { $0 = true } }

    func waitUntilFinished() async { await completion.wait() }
}
