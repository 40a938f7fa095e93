import ArgumentParser
import Contracts
import Foundation
import MetricsAggregator
import ServiceKit

/// `coalition metrics rebuild --from --to`: recounts a range of incident windows from the
/// incidents table with the aggregator's own code, e.g. after a category mapping changed.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics", abstract: "Maintain the metrics aggregator's windows.", subcommands: [Rebuild.self])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recount the incidents that occurred in [from, to) from the incidents table; changed windows are re-emitted.")

        @Option(help: "Start of the range (RFC 3339 with offset).") var from: String
        @Option(help: "End of the range, exclusive (RFC 3339 with offset).") var to: String

        func run() async throws {
            guard let start = RFC3339.date(from: from) else { throw ValidationError("--from must be an RFC 3339 time with offset, e.g. 2025-03-01T00:00:00Z") }
            guard let end = RFC3339.date(from: to) else { throw ValidationError("--to must be an RFC 3339 time with offset, e.g. 2025-04-01T00:00:00Z") }
            guard start < end else { throw ValidationError("--from must be before --to") }
            let cli = CLIEnvironment()
            let timeZone = try cli.environment.timeZone("COALITION_TIMEZONE", default: TimeZone(identifier: "UTC")!)
            let grace = try cli.environment.duration("COALITION_METRICS_GRACE", default: .seconds(7 * 24 * 3600))
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            // The running aggregator's publisher sends the re-emitted windows (the update log).
            let store = MetricsStore(postgres: postgres, consumer: "rebuild", calendar: WindowCalendar(timeZone: timeZone), grace: grace, logger: cli.logger)
            let summary = try await store.rebuild(from: start, to: end)
            print("recounted \(summary.incidents) incidents; \(summary.changedWindows) windows changed and re-emitted")
        }
    }
}
