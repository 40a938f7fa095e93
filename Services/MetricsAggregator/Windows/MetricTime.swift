import Foundation

/// Window bounds as they appear in keys: RFC 3339 in UTC, whole seconds
/// (`2025-03-14T04:00:00Z`), as docs/asyncapi.yaml shows them.
enum MetricTime {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)

    static func string(_ date: Date) -> String { date.formatted(style) }
}
