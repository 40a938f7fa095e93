/// A dependency `/readyz` probes (database, broker). A check throws when not ready.
public struct ReadinessCheck: Sendable {
    public var name: String
    public var probe: @Sendable () async throws -> Void

    public init(name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }

    /// Runs every check concurrently; the result maps each name to `ok` or the failure.
    public static func run(_ checks: [ReadinessCheck]) async -> [String: String] {
        await withTaskGroup(of: (String, String).self) { group in
            for check in checks {
                group.addTask {
                    do {
                        try await check.probe()
                        return (check.name, "ok")
                    } catch {
                        return (check.name, "unavailable: \(error)")
                    }
                }
            }
            var results: [String: String] = [:]
            for await (name, outcome) in group { results[name] = outcome }
            return results
        }
    }
}
