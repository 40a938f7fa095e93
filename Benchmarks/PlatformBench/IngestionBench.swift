import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kafka
import Logging
import Postgres

/// The ingestion service (release build, its own database and topic prefix) fed the same
/// 200,000 incident records over `incidents.raw`, then over HTTP.
struct IngestionBench {
    let brokers: String
    let databaseURL: String
    let binaries: URL
    let root: URL
    let lines: [String]
    let logger: Logger
    /// Ceilings measured earlier in the same run (records/s).
    let kcatConsumeRate: Double
    let psqlCopyRate: Double

    func run() async throws -> [BenchResult] {
        let stamp = UUID().uuidString.prefix(8).lowercased()
        let database = "bench_ingest_\(stamp)"
        let admin = try PostgresClient(configuration: .init(connectionString: databaseURL, maxConnections: 1), logger: logger)
        defer { admin.shutdown() }
        try await admin.withConnection { try await $0.executeScript(unsafeSQL: "CREATE DATABASE \(database)") }
        let benchURL = Self.replacingDatabase(in: databaseURL, with: database)
        let prefix = "bench\(stamp)."
        let environment = ["COALITION_DATABASE_URL": benchURL, "COALITION_TOPIC_PREFIX": prefix, "COALITION_KAFKA_BROKERS": brokers]
        try runCommand(binaries.appendingPathComponent("coalition").path, ["migrate"], environment: environment)
        let keyOutput = Pipe()
        try runCommand(binaries.appendingPathComponent("coalition").path,
                       ["sources", "add", "--id", "bench", "--name", "Benchmark", "--timezone", "UTC"], environment: environment, standardOutput: keyOutput.fileHandleForWriting)
        try keyOutput.fileHandleForWriting.close()
        let key = String(decoding: keyOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").last.map(String.init) ?? ""
        let kafkaAdmin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers, statisticsInterval: .zero), logger: logger)
        try runCommand(binaries.appendingPathComponent("coalition").path, ["topics", "create"], environment: environment)

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
        let service = Process()
        service.executableURL = binaries.appendingPathComponent("incident-ingestion")
        service.environment = ProcessInfo.processInfo.environment.merging(environment.merging([
            "COALITION_HTTP_PORT": "18181", "COALITION_HTTP_HOST": "127.0.0.1", "COALITION_LOG_LEVEL": "warning", "MALLOC_ARENA_MAX": "2",
            "COALITION_OUTBOX_POLL_INTERVAL": "50ms", "COALITION_INGESTION_RATE_LIMIT": "10000000", "COALITION_INGESTION_BURST": "10000000",
        ]) { _, new in new }) { _, new in new }
        service.standardError = FileHandle.nullDevice
        try service.run()
        defer { if service.isRunning { service.terminate(); service.waitUntilExit() } }

        say("ingestion: the service drains incidents.raw into PostgreSQL and incidents.normalized")
        let deadline = ContinuousClock.now + .seconds(600)
        var started: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            let stored = try await count("SELECT count(*) FROM incidents")
            if started == nil, stored > 0 { started = .now }
            if stored >= lines.count, try await count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let kafkaSeconds = seconds(ContinuousClock.now - (started ?? .now))
        let stored = try await count("SELECT count(*) FROM incidents")
        let kafkaRate = Double(stored) / kafkaSeconds
        let residentMB = Self.residentMegabytes(pid: service.processIdentifier)

        // HTTP: sequential batches of 1,000, then single incidents at a fixed 100 requests/s.
        let base = "http://127.0.0.1:18181/v1/incidents"
        let batches = 20
        say("ingestion: HTTP, \(batches) batches of 1,000")
        let httpSeconds = try await measure {
            for batch in 0..<batches {
                let items = (0..<1000).map { incident(batch * 1000 + $0, channel: "http") }.joined(separator: ",")
                _ = try await Self.post(base, body: "{\"incidents\":[\(items)]}", key: key)
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
        let steadyMB = Self.residentMegabytes(pid: service.processIdentifier)
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

        let ceiling = min(kcatConsumeRate, psqlCopyRate)
        say("")
        say("Ingestion (release build): \(stored) incidents from incidents.raw in \(String(format: "%.1f", kafkaSeconds)) s")
        say("  = \(Int(kafkaRate)) incidents/s, \(String(format: "%.3f", kafkaRate / ceiling)) × the lower ceiling (\(Int(ceiling))/s; kcat consume \(Int(kcatConsumeRate))/s, psql \\copy \(Int(psqlCopyRate))/s); goal 0.5")
        say("  HTTP batches of 1,000: \(Int(Double(batches * 1000) / httpSeconds)) incidents/s")
        say("  HTTP single incidents at 100/s: p50 \(String(format: "%.1f", latencies[latencies.count / 2])) ms, p99 \(String(format: "%.1f", latencies[latencies.count * 99 / 100])) ms")
        say("  resident memory: \(residentMB) MB after the Kafka drain, \(steadyMB) MB after HTTP (goal < 100 MB)")
        say("  Python peer (validation + executemany upserts of 1,000; no normalization, history or outbox): \(Int(peerRate)) incidents/s; ours / peer = \(String(format: "%.2f", kafkaRate / peerRate)) (goal 2)")
        return [
            BenchResult(name: "Ingestion incidents.raw → PostgreSQL → incidents.normalized", ours: kafkaRate, reference: ceiling,
                        referenceName: "lower of kcat -C and psql \\copy", unit: "incidents/s", goal: 0.5),
            BenchResult(name: "Ingestion vs a plain Python pipeline", ours: kafkaRate, reference: peerRate,
                        referenceName: "confluent-kafka + psycopg 3 peer", unit: "incidents/s", goal: 2),
        ]
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

    static func residentMegabytes(pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
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
}
