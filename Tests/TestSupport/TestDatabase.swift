import Foundation
import Logging
import Postgres

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an integration test could not get its database. Thrown, never skipped: a test that
/// cannot reach PostgreSQL fails with a message saying how to fix it.
public struct TestDatabaseError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// Temporary databases on the shared test server (`COALITION_DATABASE_URL`), one per test, so
/// tests run in parallel without seeing each other's tables.
public enum TestDatabase {
    public static let urlVariable = "COALITION_DATABASE_URL"

    /// Quiet by default; set `COALITION_TEST_LOG_LEVEL=debug` to see what the clients do.
    public static let logger: Logger = {
        var logger = Logger(label: "coalition.tests.postgres")
        let level = ProcessInfo.processInfo.environment["COALITION_TEST_LOG_LEVEL"].flatMap(
            Logger.Level.init(rawValue:))
        logger.logLevel = level ?? .error
        return logger
    }()

    /// The shared server's admin URL. Throws with instructions when it is missing.
    public static func adminURL() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment[urlVariable], !url.isEmpty { return url }
        if environment["CI"] == "true" {
            throw TestDatabaseError(
                "\(urlVariable) is not set on CI: the job must start PostgreSQL (`make infra-up`) and export "
                    + "its URL (`source .run/env`); integration tests fail rather than skip")
        }
        throw TestDatabaseError(
            "\(urlVariable) is not set: run `make infra-up` and `source .run/env` (or run `make test`, "
                + "which does both), then run the tests again")
    }

    /// Creates a uniquely named database, passes its connection string to `body`, and drops it
    /// afterwards (also when `body` throws), disconnecting whatever `body` left connected.
    public static func withTemporaryDatabase<Result>(
        isolation: isolated (any Actor)? = #isolation,
        adminURL: String? = nil,
        _ body: (String) async throws -> Result
    ) async throws -> Result {
        let admin = try adminURL ?? Self.adminURL()
        let name = "coalition_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let client = try PostgresClient(
            configuration: .init(connectionString: admin, maxConnections: 1, connectTimeout: .seconds(10)),
            logger: logger)
        defer { client.shutdown() }
        try await createDatabase(name, using: client)
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(try await body(connectionString(admin, database: name)))
        } catch {
            outcome = .failure(error)
        }
        try await client.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
        return try outcome.get()
    }

    /// `base` pointed at another database; works for URIs and for `key=value` strings.
    public static func connectionString(_ base: String, database: String) throws -> String {
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://") {
            guard var components = URLComponents(string: base) else {
                throw TestDatabaseError("\(urlVariable) is not a URL that can be rewritten")
            }
            components.path = "/" + database
            guard let url = components.string else {
                throw TestDatabaseError("\(urlVariable) could not be rewritten for database \(database)")
            }
            return url
        }
        // A later keyword wins in libpq's key=value form.
        return base + " dbname='" + database + "'"
    }

    private static func createDatabase(_ name: String, using client: PostgresClient) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while true {
            do {
                try await client.execute("CREATE DATABASE \(identifier: name)")
                return
            } catch let error as PostgresError where error.sqlState == "55006" && ContinuousClock.now < deadline {
                // Someone is connected to template1 at this instant; try again shortly.
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// `TestDatabase.withTemporaryDatabase`, for brevity in tests.
public func withTemporaryDatabase<Result>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (String) async throws -> Result
) async throws -> Result {
    try await TestDatabase.withTemporaryDatabase(body)
}

/// A PostgreSQL server of a test's own, for tests that must restart or stop the server (which
/// they must never do to the shared one). Initialised into a temporary folder, listening on a
/// free port on 127.0.0.1, role `coalition` with trust authentication.
///
/// Binaries come from `COALITION_PG_BIN` or `/usr/lib/postgresql/15/bin`. PostgreSQL refuses
/// to run as root, so under root the server runs as the `postgres` user.
public final class PrivatePostgresCluster: Sendable {
    public let port: Int
    public let directory: String
    private let binaries: String

    /// Admin URL (database `postgres`).
    public var url: String { "postgresql://coalition@127.0.0.1:\(port)/postgres" }

    private var dataDirectory: String { directory + "/data" }
    private var logFile: String { directory + "/server.log" }

    private init(port: Int, directory: String, binaries: String) {
        self.port = port
        self.directory = directory
        self.binaries = binaries
    }

    /// Starts a cluster, runs `body`, then stops and deletes it (also when `body` throws).
    public static func withPrivateCluster<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PrivatePostgresCluster) async throws -> Result
    ) async throws -> Result {
        let cluster = try await start()
        do {
            let result = try await body(cluster)
            await cluster.destroy()
            return result
        } catch {
            await cluster.destroy()
            throw error
        }
    }

    public static func start() async throws -> PrivatePostgresCluster {
        let binaries = ProcessInfo.processInfo.environment["COALITION_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
        guard FileManager.default.isExecutableFile(atPath: binaries + "/initdb") else {
            throw TestDatabaseError(
                "no PostgreSQL server binaries in \(binaries): install the `postgresql` package or set COALITION_PG_BIN"
            )
        }
        let directory = NSTemporaryDirectory() + "coalition-pg-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try ServerUser.giveOwnership(of: directory)

        var port = 0
        let cluster: PrivatePostgresCluster
        do {
            try await ServerUser.run(
                binaries + "/initdb",
                ["-D", directory + "/data", "-U", "coalition", "--auth=trust", "-E", "UTF8", "--no-locale", "-N"],
                in: directory)
            var attempt = 0
            while true {
                attempt += 1
                port = try freePort()
                let candidate = PrivatePostgresCluster(port: port, directory: directory, binaries: binaries)
                do {
                    try await candidate.pgCtl(["start", "-o", candidate.serverOptions])
                    cluster = candidate
                    break
                } catch  where attempt < 5 {
                    continue  // most likely someone took the port in between
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        return cluster
    }

    /// `pg_ctl restart -m fast`: disconnects every client, then waits until the server accepts
    /// connections again.
    public func restart() async throws {
        try await pgCtl(["restart", "-m", "fast", "-o", serverOptions])
    }

    /// Stops the server immediately and deletes its files.
    public func destroy() async {
        _ = try? await pgCtl(["stop", "-m", "immediate"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var serverOptions: String {
        "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c max_connections=50 "
            + "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    }

    private func pgCtl(_ arguments: [String]) async throws {
        try await ServerUser.run(
            binaries + "/pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60"] + arguments, in: directory)
    }

    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestDatabaseError("socket() failed: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else { throw TestDatabaseError("could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs the server's tools as the `postgres` user when we are root (PostgreSQL refuses root).
private enum ServerUser {
    static var isRoot: Bool { getuid() == 0 }

    static func giveOwnership(of path: String) throws {
        guard isRoot else { return }
        guard let user = getpwnam("postgres") else {
            throw TestDatabaseError("running as root, but there is no `postgres` user to run the server as")
        }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw TestDatabaseError("could not hand \(path) to the postgres user: errno \(errno)")
        }
    }

    /// Runs a tool to completion without blocking a thread of the concurrency pool.
    ///
    /// Spawned directly rather than with Foundation's `Process`, which on Linux learns that a
    /// child exited when a socket the child inherited closes: the server that `pg_ctl start`
    /// leaves behind inherits it too, so `Process` would never report pg_ctl's exit.
    static func run(_ executable: String, _ arguments: [String], in directory: String) async throws {
        var command = [executable] + arguments
        if isRoot {
            let runuser =
                ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
                .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/runuser"
            command = [runuser, "-u", "postgres", "--"] + command
        }
        let outputPath = NSTemporaryDirectory() + "coalition-pg-output-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: outputPath) }

        let pid = try spawn(command, in: directory, output: outputPath)
        let status: Int32 = await withCheckedContinuation { continuation in
            let waiter = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: status)
            }
            waiter.start()
        }
        // Exited normally with code 0 (WIFEXITED && WEXITSTATUS == 0).
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw TestDatabaseError("\(name) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }

    private static func spawn(_ command: [String], in directory: String, output: String) throws -> pid_t {
        #if os(Linux)
            var actions = posix_spawn_file_actions_t()
        #else
            var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // glibc's (and macOS's) `_np` extensions are not visible to Swift: look them up.
        typealias AddChdir = @convention(c) (UnsafeMutableRawPointer, UnsafePointer<CChar>) -> Int32
        typealias AddCloseFrom = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
        withUnsafeMutableBytes(of: &actions) { raw in
            if let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") {
                _ = unsafeBitCast(symbol, to: AddChdir.self)(raw.baseAddress!, directory)
            }
            // Keep our descriptors (the test runner's pipes, sockets) out of a server that
            // outlives this call: a server holding the runner's output pipe would hang it.
            if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
                _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(raw.baseAddress!, 3)
            }
        }

        let arguments: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, nil, arguments, environ)
        guard result == 0 else {
            throw TestDatabaseError("could not start \(command[0]): error \(result)")
        }
        return pid
    }
}
