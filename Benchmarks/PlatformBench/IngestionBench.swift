import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Logging
import Postgres

/// The ingestion service (release build, its own database and topic prefix) fed the same
/// 200,000 incident records over `incidents.raw`, then over HTTP.
///
/// Each round measures its own ceilings on the same records before the service starts, so
/// every ratio compares figures taken minutes apart on the same machine: kcat consuming the
/// round's `incidents.raw`, and `psql \copy` of the same rows (the layer benchmark's six
/// incident columns). Then the service drains the topic, and the plain Python peer reads the
/// same topic with the service stopped.
///
/// Settings: `BENCH_INGESTION_ROUNDS` (default 1) repeats the whole measurement and reports
/// the median with the range; `BENCH_INGESTION_BINARIES` runs `incident-ingestion` and
/// `coalition` from another build folder (e.g. a copy of an earlier build, for a before/after
/// on the same benchmark code).
struct IngestionBench {
    let brokers: String
    let databaseURL: String
    let binaries: URL
    let root: URL
    let lines: [String]
    let logger: Logger
    /// Ceilings from the layer benchmarks of this run, or given by BENCH_KCAT_RATE /
    /// BENCH_COPY_RATE with BENCH_ONLY (records/s); printed next to the ones measured here.
    let kcatConsumeRate: Double
    let psqlCopyRate: Double

    /// What one round measured.
    struct Round {
        var kcatRate: Double
        var copyRate: Double
        var kafkaRate: Double
        var kafkaSeconds: Double
        /// From the first stored incident to the last one's outbox row (the relay may lag behind).
        var storedSeconds: Double
        /// CPU time (user + system) per incident during the drain: the service, and the
        /// PostgreSQL backends serving the round's database (ingestion and outbox relay).
        var serviceMicroseconds: Double
        var databaseMicroseconds: Double
        var stored: Int
        var peerRate: Double
        var residentAfterDrainMB: Int
        var peakDuringDrainMB: Int
        var http: HTTPFigures?

        var ceiling: Double { min(kcatRate, copyRate) }
    }

    struct HTTPFigures {
        var batchRate: Double
        var p50: Double
        var p99: Double
        var residentMB: Int
    }

    static let ceilingRepeats = 3

    func run() async throws -> [BenchResult] {
        let environment = ProcessInfo.processInfo.environment
        let rounds = max(1, Int(environment["BENCH_INGESTION_ROUNDS"] ?? "") ?? 1)
        let serviceBinaries = environment["BENCH_INGESTION_BINARIES"].map { URL(fileURLWithPath: $0) } ?? binaries
        if serviceBinaries != binaries { say("ingestion: service binaries from \(serviceBinaries.path)") }
        var measured: [Round] = []
        for round in 1...rounds {
            say("ingestion round \(round)/\(rounds)")
            measured.append(try await runRound(serviceBinaries: serviceBinaries, withHTTP: round == rounds))
        }

        func summary(_ values: [Double], format: String = "%.0f") -> String {
            let text = { String(format: format, $0) }
            guard values.count > 1 else { return text(values[0]) }
            return "\(text(median(values))) (range \(text(values.min()!))–\(text(values.max()!)))"
        }
        let kafkaRates = measured.map(\.kafkaRate)
        let ceilings = measured.map(\.ceiling)
        let peerRates = measured.map(\.peerRate)
        let ceilingRatios = measured.map { $0.kafkaRate / $0.ceiling }
        let peerRatios = measured.map { $0.kafkaRate / $0.peerRate }
        say("")
        say("Ingestion (release build), \(rounds) round(s), \(lines.count) records each:")
        for (index, round) in measured.enumerated() {
            say("  round \(index + 1): \(round.stored) incidents in \(String(format: "%.1f", round.kafkaSeconds)) s = \(Int(round.kafkaRate))/s "
                + "(all stored after \(String(format: "%.1f", round.storedSeconds)) s); "
                + "kcat -C \(Int(round.kcatRate))/s, psql \\copy \(Int(round.copyRate))/s; peer \(Int(round.peerRate))/s; "
                + "RSS \(round.residentAfterDrainMB) MB after the drain (peak \(round.peakDuringDrainMB) MB); "
                + "CPU per incident: service \(Int(round.serviceMicroseconds)) µs, PostgreSQL \(Int(round.databaseMicroseconds)) µs")
        }
        say("  incidents.raw → PostgreSQL → incidents.normalized: \(summary(kafkaRates)) incidents/s")
        say("  = \(summary(ceilingRatios, format: "%.3f")) × the lower ceiling measured in the same round (\(summary(ceilings))/s); goal 0.5")
        if kcatConsumeRate > 1 || psqlCopyRate > 1 {
            say("  (layer-benchmark ceilings of this run or given: kcat -C \(Int(kcatConsumeRate))/s, psql \\copy \(Int(psqlCopyRate))/s)")
        }
        say("  Python peer (validation + executemany upserts of 1,000; no normalization, history or outbox): \(summary(peerRates)) incidents/s")
        say("  ours / peer = \(summary(peerRatios, format: "%.2f")) (goal 2)")
        if let http = measured.last?.http {
            say("  HTTP batches of 1,000: \(Int(http.batchRate)) incidents/s")
            say("  HTTP single incidents at 100/s: p50 \(String(format: "%.1f", http.p50)) ms, p99 \(String(format: "%.1f", http.p99)) ms")
            say("  resident memory: \(summary(measured.map { Double($0.residentAfterDrainMB) })) MB after the Kafka drain "
                + "(peak \(summary(measured.map { Double($0.peakDuringDrainMB) })) MB), \(http.residentMB) MB after HTTP (goal < 100 MB)")
        }
        let medianRound = measured.sorted { $0.kafkaRate < $1.kafkaRate }[measured.count / 2]
        return [
            BenchResult(name: "Ingestion incidents.raw → PostgreSQL → incidents.normalized", ours: medianRound.kafkaRate, reference: medianRound.ceiling,
                        referenceName: "lower of kcat -C and psql \\copy, same round", unit: "incidents/s", goal: 0.5),
            BenchResult(name: "Ingestion vs a plain Python pipeline", ours: medianRound.kafkaRate, reference: medianRound.peerRate,
                        referenceName: "confluent-kafka + psycopg 3 peer", unit: "incidents/s", goal: 2),
        ]
    }

    func runRound(serviceBinaries: URL, withHTTP: Bool) async throws -> Round {
        let stamp = UUID().uuidString.prefix(8).lowercased()
        let database = "bench_ingest_\(stamp)"
        let admin = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: logger)
        defer { admin.shutdown() }
        try await admin.withConnection { try await $0.executeScript(unsafeSQL: "CREATE DATABASE \(database)") }
        let benchURL = Self.replacingDatabase(in: databaseURL, with: database)
        let prefix = "bench\(stamp)."
        let environment = ["COALITION_DATABASE_URL": benchURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_KAFKA_BROKERS": brokers]
        let cli = serviceBinaries.appendingPathComponent("coalition").path
        try runCommand(cli, ["migrate"], environment: environment)
        let keyOutput = Pipe()
        try runCommand(cli, ["sources", "add", "--id", "bench", "--name", "Benchmark", "--timezone", "UTC"], environment: environment,
                       standardOutput: keyOutput.fileHandleForWriting)
        try keyOutput.fileHandleForWriting.close()
        let key = String(decoding: keyOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").last.map(String.init) ?? ""
        let kafkaAdmin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers, statisticsInterval: .zero), logger: logger)
        try runCommand(cli, ["topics", "create"], environment: environment)

        // 200k valid incidents built from the dataset rows, unique ids.
        let categories = ["theft", "noise", "assault", "vandalism", "burglary", "disorder", "traffic", "animal"]
        func incident(_ index: Int, channel: String) -> String {
            // Truncate before escaping, so no escape sequence is cut in half.
            let description = (lines[index % lines.count].split(separator: "\t", maxSplits: 1).last.map(String.init) ?? "").prefix(200)
            let escaped = description.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return #"{"source":"bench","external_id":"\#(channel)-\#(index)","category":"\#(categories[index % categories.count])","description":"\#(escaped)","occurred_at":"2025-03-14T01:20:00Z","location":{"lat":\#(40.5 + Double(index % 1000) / 2000),"lon":\#(-74.2 + Double(index % 997) / 2000)}}"#
        }
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: KafkaConfiguration(brokers: brokers, clientID: "bench", statisticsInterval: .zero)), logger: logger)
        say("ingestion: producing \(lines.count) records to \(prefix)incidents.raw")
        try await producer.sendAll((0..<lines.count).map { KafkaRecord(topic: prefix + "incidents.raw", key: "k\($0)", value: incident($0, channel: "kafka")) })
        await producer.shutdown()

        let postgres = try PostgresClient(configuration: .init(connectionString: benchURL, maxConnections: 2), logger: logger)
        defer { postgres.shutdown() }
        func count(_ sql: String) async throws -> Int {
            try await postgres.query(PostgresQuery(unsafeSQL: sql)).first!.decode(0, as: Int.self)
        }

        say("ingestion: ceilings on the same records (kcat -C of the topic, psql \\copy of the rows), \(Self.ceilingRepeats) times each")
        let kcatRate = median(try (0..<Self.ceilingRepeats).map { _ in try kcatConsume(topic: prefix + "incidents.raw") })
        let copyRate = median(try await psqlCopy(postgres: postgres, databaseURL: benchURL))

        let service = Process()
        service.executableURL = serviceBinaries.appendingPathComponent("incident-ingestion")
        service.environment = ProcessInfo.processInfo.environment.merging(environment.merging([
            "COALITION_HTTP_PORT": "18181", "COALITION_HTTP_HOST": "127.0.0.1", "COALITION_LOG_LEVEL": "warning", "MALLOC_ARENA_MAX": "2",
            "COALITION_OUTBOX_POLL_INTERVAL": "50ms", "COALITION_INGESTION_RATE_LIMIT": "10000000", "COALITION_INGESTION_BURST": "10000000",
        ]) { _, new in new }) { _, new in new }
        service.standardError = FileHandle.nullDevice
        try service.run()
        defer { if service.isRunning { service.terminate(); service.waitUntilExit() } }

        // Progress is read from cheap statements (a sequence, an index probe): a count(*) of the
        // growing table every 100 ms would itself cost the database a good part of a core.
        say("ingestion: the service drains incidents.raw into PostgreSQL and incidents.normalized")
        let deadline = ContinuousClock.now + .seconds(600)
        var started: ContinuousClock.Instant?
        var allStored: ContinuousClock.Instant?
        var peak = 0
        var cpuAtStart: (service: Double, database: Double)?
        while ContinuousClock.now < deadline {
            if started == nil, try await count("SELECT count(*) FROM (SELECT 1 FROM incidents LIMIT 1) AS any_row") > 0 {
                started = .now
                cpuAtStart = (Self.cpuSeconds(pid: service.processIdentifier), try await databaseCPUSeconds(postgres, database: database))
            }
            peak = max(peak, Self.residentMegabytes(pid: service.processIdentifier))
            guard started != nil, try await count("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM outbox_id_seq") >= lines.count else {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            if allStored == nil { allStored = .now }
            if try await count("SELECT count(*) FROM (SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 1) AS pending") == 0,
               try await count("SELECT count(*) FROM incidents") >= lines.count {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let kafkaSeconds = seconds(ContinuousClock.now - (started ?? .now))
        let storedSeconds = seconds((allStored ?? .now) - (started ?? .now))
        let serviceCPU = Self.cpuSeconds(pid: service.processIdentifier) - (cpuAtStart?.service ?? 0)
        let databaseCPU = try await databaseCPUSeconds(postgres, database: database) - (cpuAtStart?.database ?? 0)
        let stored = try await count("SELECT count(*) FROM incidents")
        let kafkaRate = Double(stored) / kafkaSeconds
        let residentMB = Self.residentMegabytes(pid: service.processIdentifier)
        peak = max(peak, Self.peakResidentMegabytes(pid: service.processIdentifier))

        var http: HTTPFigures?
        if withHTTP {
            // Sequential batches of 1,000, then single incidents at a fixed 100 requests/s.
            let base = "http://127.0.0.1:18181/v1/incidents"
            let batches = 20
            say("ingestion: HTTP, \(batches) batches of 1,000")
            // Bodies are built before the clock starts: the figure is the service's, not the client's.
            let bodies = (0..<batches).map { batch in
                "{\"incidents\":[" + (0..<1000).map { incident(batch * 1000 + $0, channel: "http") }.joined(separator: ",") + "]}"
            }
            let httpSeconds = try await measure {
                for body in bodies {
                    let status = try await Self.post(base, body: body, key: key)
                    guard status == 202 else { throw NSError(domain: "bench", code: status, userInfo: [NSLocalizedDescriptionKey: "a batch got HTTP \(status)"]) }
                }
            }
            say("ingestion: HTTP, 500 single incidents at 100 requests/s")
            var latencies: [Double] = []
            let interval = Duration.milliseconds(10)
            var next = ContinuousClock.now
            for index in 0..<500 {
                try await Task.sleep(until: next)
                next += interval
                let body = incident(1_000_000 + index, channel: "single")
                latencies.append(try await measure { _ = try await Self.post(base, body: body, key: key) } * 1000)
            }
            latencies.sort()
            http = HTTPFigures(
                batchRate: Double(batches * 1000) / httpSeconds, p50: latencies[latencies.count / 2], p99: latencies[latencies.count * 99 / 100],
                residentMB: Self.residentMegabytes(pid: service.processIdentifier))
        }
        service.terminate()
        service.waitUntilExit()

        // The peer: a plain Python pipeline over the same topic, with the service stopped so
        // the two never share the CPU.
        say("ingestion: the Python peer (confluent-kafka + psycopg 3) reads the same \(lines.count) records")
        let peerRate = try Self.runPeer(
            root: root, brokers: brokers, topic: prefix + "incidents.raw", group: "bench-peer-\(stamp)", databaseURL: benchURL, expect: lines.count)
        try? await kafkaAdmin.deleteTopics((try await kafkaAdmin.topics()).keys.filter { $0.hasPrefix(prefix) })
        postgres.shutdown()
        try? await admin.withConnection { try await $0.executeScript(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        return Round(
            kcatRate: kcatRate, copyRate: copyRate, kafkaRate: kafkaRate, kafkaSeconds: kafkaSeconds, storedSeconds: storedSeconds,
            serviceMicroseconds: serviceCPU * 1e6 / Double(max(stored, 1)), databaseMicroseconds: databaseCPU * 1e6 / Double(max(stored, 1)), stored: stored, peerRate: peerRate,
            residentAfterDrainMB: residentMB, peakDuringDrainMB: peak, http: http)
    }

    /// User + system CPU seconds of a process so far (`/proc/PID/stat`, fields 14 and 15).
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds of the PostgreSQL backends connected to `database` (the service's pool and
    /// this benchmark's own two connections, which only poll).
    func databaseCPUSeconds(_ postgres: PostgresClient, database: String) async throws -> Double {
        let pids = try await postgres.query("SELECT pid FROM pg_stat_activity WHERE datname = \(database)").map { try $0.decode(0, as: Int.self) }
        return pids.reduce(0) { $0 + Self.cpuSeconds(pid: Int32($1)) }
    }

    /// kcat reading the whole topic (every partition to its end), records/s.
    func kcatConsume(topic: String) throws -> Double {
        let kcat = ProcessInfo.processInfo.environment["COALITION_KCAT"] ?? "kcat"
        return Double(lines.count) / (try measureSync {
            try runCommand(kcat, ["-C", "-q", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-c", String(lines.count), "-f", "%s\n"])
        })
    }

    /// `psql \copy` of the same rows the layer benchmark copies (six incident columns of the
    /// same 200k lines) into a table of the round's database, rows/s for each repeat.
    func psqlCopy(postgres: PostgresClient, databaseURL: String) async throws -> [Double] {
        let directory = root.appendingPathComponent(".run/bench")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let copyFile = directory.appendingPathComponent("ingestion-copy.tsv")
        let formatter = ISO8601DateFormatter()
        let text = lines.enumerated().map { index, line in
            let description = line.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
            return "\(index)\tbench\text-\(index)\ttheft\t\(formatter.string(from: Date(timeIntervalSince1970: 1_700_000_000 + Double(index))))\t\(description)"
        }.joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: copyFile)
        defer { try? FileManager.default.removeItem(at: copyFile) }
        try await postgres.withConnection { connection in
            try await connection.executeScript(unsafeSQL: """
                CREATE TABLE ceiling_copy (id bigint, source text, external_id text, category text, occurred_at timestamptz, description text)
                """)
        }
        var rates: [Double] = []
        for _ in 0..<Self.ceilingRepeats {
            try await postgres.withConnection { try await $0.executeScript(unsafeSQL: "TRUNCATE ceiling_copy") }
            rates.append(Double(lines.count) / (try measureSync {
                try runCommand("psql", [databaseURL, "-q", "-v", "ON_ERROR_STOP=1", "-c", "\\copy ceiling_copy FROM '\(copyFile.path)'"])
            }))
        }
        try await postgres.withConnection { try await $0.executeScript(unsafeSQL: "DROP TABLE ceiling_copy") }
        return rates
    }

    /// Runs Benchmarks/Peer/ingestion_peer.py and returns its rate (records/s).
    static func runPeer(root: URL, brokers: String, topic: String, group: String, databaseURL: String, expect: Int) throws -> Double {
        let python = ProcessInfo.processInfo.environment["COALITION_PYTHON"] ?? root.appendingPathComponent(".local/venv/bin/python").path
        let output = Pipe()
        try runCommand(python, [
            root.appendingPathComponent("Benchmarks/Peer/ingestion_peer.py").path, "--brokers", brokers, "--topic", topic, "--group", group,
            "--dsn", databaseURL, "--expect", String(expect), "--timeout", "600",
        ], standardOutput: output.fileHandleForWriting)
        try output.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        guard let result = try JSONSerialization.jsonObject(with: data) as? [String: Any], let rate = (result["rate"] as? NSNumber)?.doubleValue else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "the peer printed no rate: \(String(decoding: data, as: UTF8.self))"])
        }
        return rate
    }

    static func post(_ address: String, body: String, key: String) async throws -> Int {
        var request = URLRequest(url: URL(string: address)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 60
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func get(_ address: String) async throws -> Int {
        var request = URLRequest(url: URL(string: address)!)
        request.timeoutInterval = 5
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func residentMegabytes(pid: Int32) -> Int { statusMegabytes(pid: pid, field: "VmRSS:") }

    /// The highest resident size the process has had (the kernel's high-water mark).
    static func peakResidentMegabytes(pid: Int32) -> Int { statusMegabytes(pid: pid, field: "VmHWM:") }

    private static func statusMegabytes(pid: Int32, field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kilobytes / 1024
    }

    static func replacingDatabase(in url: String, with database: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards), url[..<slash.lowerBound].contains("@") || url.contains("://") else { return url }
        let tail = url[slash.upperBound...]
        let query = tail.firstIndex(of: "?").map { String(tail[$0...]) } ?? ""
        return String(url[..<slash.upperBound]) + database + query
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func measureSync(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        return seconds(ContinuousClock.now - start)
    }
}
