import Foundation
import Kafka
import Logging
import Postgres
import ServiceKit

/// `make bench`: our Kafka and PostgreSQL layers against the reference tools on the same broker,
/// database and data, in the same run. Prints figures and ratios (ours / reference); never fails
/// on a timing.
@main
struct PlatformBench {
    static let recordCount = Int(ProcessInfo.processInfo.environment["BENCH_RECORDS"] ?? "") ?? 200_000

    static func main() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let environment = ProcessInfo.processInfo.environment
        guard let brokers = environment["COALITION_KAFKA_BROKERS"], let databaseURL = environment["COALITION_DATABASE_URL"] else {
            fatalError("COALITION_KAFKA_BROKERS and COALITION_DATABASE_URL must be set (source .run/env)")
        }
        let root = URL(fileURLWithPath: environment["COALITION_REPO_ROOT"] ?? FileManager.default.currentDirectoryPath)
        let kcat = environment["COALITION_KCAT"] ?? "kcat"
        let workDirectory = root.appendingPathComponent(".run/bench")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        if environment["BENCH_ONLY"] == "scheduler" {
            // Needs neither the incident records nor the layer ceilings.
            say("Coalition meeting scheduler benchmarks")
            let results = try await SchedulerBench(databaseURL: databaseURL, root: root, workDirectory: workDirectory, logger: logger).run()
            say("")
            say("| measurement | ours | reference | ratio (ours/reference) | goal |")
            say("|---|---|---|---|---|")
            for result in results { say(result.row) }
            return
        }

        let lines = try BenchData.incidentLines(root: root, count: recordCount)
        let dataFile = workDirectory.appendingPathComponent("records.txt")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: dataFile)
        let averageSize = lines.reduce(0) { $0 + $1.utf8.count } / lines.count
        say("Coalition platform benchmarks — \(recordCount) incident records (~\(averageSize) B each, from Datasets/)")
        say("")

        // BENCH_ONLY=ingestion|fanout|scheduler|metrics runs that part only (a quicker loop while tuning a service);
        // the ceilings then come from BENCH_KCAT_RATE / BENCH_COPY_RATE and the ratios say so.
        let only = environment["BENCH_ONLY"]
        var results: [BenchResult] = []
        var kcatRate = Double(environment["BENCH_KCAT_RATE"] ?? "") ?? 0
        var copyRate = Double(environment["BENCH_COPY_RATE"] ?? "") ?? 0
        if only == nil {
            results += try await KafkaBench(brokers: brokers, kcat: kcat, lines: lines, dataFile: dataFile, logger: logger).run()
            results += try await CopyBench(databaseURL: databaseURL, lines: lines, workDirectory: workDirectory, logger: logger).run()
            kcatRate = results[1].reference
            copyRate = results[2].reference
        } else {
            say("BENCH_ONLY=\(only!): layer benchmarks skipped; ceilings given: kcat \(Int(kcatRate))/s, psql \\copy \(Int(copyRate))/s")
        }
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if only == nil || only == "ingestion" {
            results += try await IngestionBench(
                brokers: brokers, databaseURL: databaseURL, binaries: binaries, root: root, lines: lines, logger: logger,
                kcatConsumeRate: max(kcatRate, 1), psqlCopyRate: max(copyRate, 1)
            ).run()
        }
        if only == nil {
            results += try await SchedulerBench(databaseURL: databaseURL, root: root, workDirectory: workDirectory, logger: logger).run()
        }
        if only == nil || only == "fanout" {
            results += try await FanoutBench(brokers: brokers, databaseURL: databaseURL, binaries: binaries, root: root, logger: logger).run()
        }
        if only == nil || only == "metrics" {
            results += try await MetricsBench(brokers: brokers, databaseURL: databaseURL, binaries: binaries, root: root, logger: logger).run()
        }

        say("")
        say("Median of \(KafkaBench.rounds) alternating rounds each; the group member's time runs from its first record")
        say("(joining a new group is a broker-side delay, and kcat -C reads without a group).")
        say("")
        say("| measurement | ours | reference | ratio (ours/reference) | goal |")
        say("|---|---|---|---|---|")
        for result in results { say(result.row) }
    }
}

struct BenchResult {
    let name: String
    let ours: Double
    let reference: Double
    let referenceName: String
    let unit: String
    var goal: Double = 0.8
    /// For latencies and growth factors: the goal is a ceiling on the ratio (0 = none stated).
    var lowerIsBetter = false

    var ratio: Double { ours / reference }
    var row: String {
        let verdict: String
        if lowerIsBetter {
            verdict = goal == 0 ? "(lower is better)" : "≤ \(String(format: "%.2f", goal)) \(ratio <= goal ? "met" : "NOT met")"
        } else {
            verdict = "≥ \(String(format: "%.2f", goal)) \(ratio >= goal ? "met" : "NOT met")"
        }
        let format = { (value: Double) in unit == "×" ? String(format: "%.1f", value) : Self.format(value) }
        return "| \(name) | \(format(ours)) \(unit) | \(format(reference)) \(unit) (\(referenceName)) | \(String(format: "%.2f", ratio)) | \(verdict) |"
    }

    static func format(_ value: Double) -> String { String(format: "%.0f", value) }
}

enum BenchData {
    /// Incident-sized records: rows of the three real datasets, cycled, each made unique.
    static func incidentLines(root: URL, count: Int) throws -> [String] {
        let dataDirectory = root.appendingPathComponent("Datasets")
        var rows: [String] = []
        for file in ["sf_police_incident_reports_2018-12.csv", "nyc_311_animal_complaints_2025-03.csv", "seattle_911_incident_response_2016-03-25.csv"] {
            let text = try String(contentsOf: dataDirectory.appendingPathComponent(file), encoding: .utf8)
            rows += text.split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: "\r", with: "") }
                .map { String($0.prefix(380)) }
        }
        return (0..<count).map { index in "\(index)\t" + rows[index % rows.count].replacingOccurrences(of: "\t", with: " ") }
    }
}

/// Prints unbuffered, so progress shows as it happens even when the output goes to a file.
func say(_ line: String = "") {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Times a closure on the monotonic clock, in seconds.
func measure(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Runs a command to completion; throws on a non-zero exit.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:], standardOutput: FileHandle? = nil) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardOutput = standardOutput ?? FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "bench", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: "\(executable) exited \(process.terminationStatus)"])
    }
}
