import Foundation
import Logging

/// A configuration value that is missing or malformed. The description names the variable,
/// so the one line a service prints before exiting tells the operator what to fix.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var variable: String
    public var message: String

    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    public var description: String { "\(variable): \(message)" }
}

/// Reads typed `COALITION_*` values from the process environment (or a given dictionary).
public struct Environment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The value, or `nil` when unset or empty.
    public func string(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public func string(_ name: String, default fallback: String) -> String { string(name) ?? fallback }

    public func required(_ name: String) throws(ConfigurationError) -> String {
        guard let value = string(name) else { throw ConfigurationError(variable: name, message: "is required but not set") }
        return value
    }

    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigurationError) -> Int {
        guard let text = string(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(variable: name, message: "expected an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    /// A decimal number such as `5000` or `0.5`.
    public func double(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let text = string(name) else { return fallback }
        guard let value = Double(text), value.isFinite, range.contains(value) else {
            throw ConfigurationError(variable: name, message: "expected a number in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    public func bool(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(name)?.lowercased() else { return fallback }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: name, message: "expected true or false, got \"\(text)\"")
        }
    }

    /// Durations are written with a unit: `250ms`, `30s`, `5m`, `2h`.
    public func duration(_ name: String, default fallback: Duration) throws(ConfigurationError) -> Duration {
        guard let text = string(name) else { return fallback }
        guard let value = Self.parseDuration(text) else {
            throw ConfigurationError(variable: name, message: "expected a duration such as 250ms, 30s, 5m or 2h, got \"\(text)\"")
        }
        return value
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, (Int64) -> Duration)] = [
            ("ms", { .milliseconds($0) }), ("s", { .seconds($0) }), ("m", { .seconds($0 * 60) }), ("h", { .seconds($0 * 3600) }),
        ]
        for (suffix, make) in units where text.hasSuffix(suffix) {
            guard let number = Int64(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return make(number)
        }
        return nil
    }

    public func logLevel(_ name: String, default fallback: Logger.Level) throws(ConfigurationError) -> Logger.Level {
        guard let text = string(name) else { return fallback }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ConfigurationError(variable: name, message: "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"")
        }
        return level
    }

    public func timeZone(_ name: String, default fallback: TimeZone) throws(ConfigurationError) -> TimeZone {
        guard let text = string(name) else { return fallback }
        guard let zone = TimeZone(identifier: text) else {
            throw ConfigurationError(variable: name, message: "unknown IANA time zone \"\(text)\"")
        }
        return zone
    }
}
