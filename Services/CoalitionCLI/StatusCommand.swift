import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import ServiceKit

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether PostgreSQL, the broker and every service are ready; exit 0 only if all are.")

    static let services: [(name: String, variable: String, fallback: String)] = [
        ("incident-ingestion", "COALITION_INGESTION_URL", "http://127.0.0.1:8081"),
        ("alert-fanout", "COALITION_FANOUT_URL", "http://127.0.0.1:8082"),
        ("meeting-scheduler", "COALITION_SCHEDULER_URL", "http://127.0.0.1:8083"),
        ("metrics-aggregator", "COALITION_METRICS_URL", "http://127.0.0.1:8084"),
    ]

    func run() async throws {
        let cli = CLIEnvironment()
        var allReady = true
        func report(_ name: String, _ ready: Bool, _ detail: String) {
            allReady = allReady && ready
            print("\(ready ? "ready    " : "NOT READY") \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(detail)")
        }

        do {
            let postgres = try cli.postgres()
            try await withDeadline(.seconds(5)) { try await postgres.withConnection { _ = try await $0.query("SELECT 1") } }
            postgres.shutdown()
            report("postgresql", true, "accepting queries")
        } catch {
            report("postgresql", false, "\(error)")
        }

        do {
            let admin = try KafkaAdmin(configuration: cli.kafka, logger: cli.logger)
            let brokers = try await admin.brokers(timeout: .seconds(5))
            report("kafka", true, "brokers \(brokers.joined(separator: ", "))")
        } catch {
            report("kafka", false, "\(error)")
        }

        for service in Self.services {
            let base = cli.environment.string(service.variable, default: service.fallback)
            let (ready, detail) = await Self.probe(base + "/readyz")
            report(service.name, ready, "\(base) \(detail)")
        }
        if !allReady { throw ExitCode(1) }
    }

    static func probe(_ address: String) async -> (Bool, String) {
        guard let url = URL(string: address) else { return (false, "bad URL") }
        var request = URLRequest(url: url)
        request.timeoutInterval = 3
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (status == 200, status == 200 ? "ready" : "HTTP \(status): \(String(decoding: data.prefix(200), as: UTF8.self))")
        } catch {
            return (false, "unreachable (\(error.localizedDescription))")
        }
    }
}
