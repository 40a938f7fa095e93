import Logging

/// How long each phase of a flush took, for the debug log (`COALITION_LOG_LEVEL=debug`): where
/// the time of a slow flush goes — reading state, writing windows, hotspots, the log, commit.
struct PhaseTimer {
    private var last = ContinuousClock.now
    private(set) var phases: [(String, Duration)] = []

    mutating func mark(_ phase: String) {
        let now = ContinuousClock.now
        phases.append((phase, now - last))
        last = now
    }

    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        for (phase, duration) in phases { metadata["flush.\(phase)_ms"] = "\(duration.milliseconds)" }
        return metadata
    }
}
