import Foundation

/// The two checks every service's OpenAPI file drives against the running service, each
/// passing only when no answer is a server error:
///
/// - schemathesis: requests generated from the file, seeded so a run can be replayed;
/// - the NUL probe (`Tests/Judges/nul_probe.py`): a NUL in each path and query parameter of
///   every operation in turn, which schemathesis reaches only by chance.
public enum OpenAPIFuzzing {
    public struct Outcome: Sendable {
        public var status: Int32
        public var lines: [String]
        /// The end of the output, for a failure message.
        public var tail: String { lines.suffix(40).joined(separator: "\n") }
    }

    /// `schemathesis run docs/openapi/SPEC --checks not_a_server_error`.
    public static func schemathesis(
        spec: String, baseURL: String, bearer: String, seed: Int, maxExamples: Int, excludedPaths: [String] = []
    ) async throws -> Outcome {
        try await run(
            TestEnvironment.repositoryRoot.appendingPathComponent(".local/venv/bin/schemathesis"),
            ["run", specPath(spec), "--url", baseURL, "--checks", "not_a_server_error", "--max-examples", String(maxExamples),
             "--seed", String(seed), "-H", "Authorization: Bearer \(bearer)", "--no-color"]
                + excludedPaths.flatMap { ["--exclude-path", $0] })
    }

    /// `nul_probe.py docs/openapi/SPEC`: every probe is sent with and without the credential.
    public static func nulProbe(spec: String, baseURL: String, bearer: String, excludedPaths: [String] = []) async throws -> Outcome {
        try await run(
            try TestEnvironment.python(),
            [TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Judges/nul_probe.py").path, specPath(spec), baseURL,
             "--header", "Authorization: Bearer \(bearer)"]
                + excludedPaths.flatMap { ["--exclude-path", $0] })
    }

    private static func specPath(_ spec: String) -> String {
        TestEnvironment.repositoryRoot.appendingPathComponent("docs/openapi").appendingPathComponent(spec).path
    }

    private static func run(_ executable: URL, _ arguments: [String]) async throws -> Outcome {
        let process = try ChildProcess(
            executable, arguments: arguments,
            environment: ["SCHEMATHESIS_HOOKS": "", "HOME": FileManager.default.temporaryDirectory.path])
        let status = try await process.waitForExit(timeout: .seconds(600))
        return Outcome(status: status, lines: process.lines)
    }
}
