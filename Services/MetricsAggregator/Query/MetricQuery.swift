import Contracts
import Foundation
import Hummingbird
import ServiceKit

/// The query string of `GET /v1/metrics/{name}`, validated: bad values are a 400 naming each
/// offending parameter. The dimension parameters depend on the metric (`area` and `category`
/// for incidents, `channel` and `role` for alerts, …); an absent one means the total over it.
struct MetricQuery: Sendable, Equatable {
    var metric: MetricName
    var granularity: Granularity
    var from: Date
    var to: Date
    /// The row's dimensions (`area/category`, `webhook/*`, `*/*/person`, …).
    var dimensions: DimensionSet

    static let maximumSpan: TimeInterval = 20 * 366 * 86_400
    static let channels: Set<String> = ["webhook", "email", "sms"]
    static let roles: Set<String> = Set(StakeholderRole.allCases.map(\.rawValue) + [Engagement.unspecifiedRole])

    static func parse(_ metric: MetricName, _ parameters: Parameters) throws -> MetricQuery {
        var errors: [ProblemDetails.FieldError] = []
        func text(_ name: String) -> String? {
            guard let value = parameters.get(name), !value.isEmpty else { return nil }
            // PostgreSQL text cannot carry a NUL, and no area, category or role has one.
            guard !value.contains("\u{0}") else {
                if !errors.contains(where: { $0.field == name }) {
                    errors.append(.init(field: name, code: "invalid", message: "contains a NUL character"))
                }
                return nil
            }
            return String(value)
        }
        var granularity = Granularity.day
        if let value = text("granularity") {
            if let parsed = Granularity(rawValue: value) { granularity = parsed } else {
                errors.append(.init(field: "granularity", code: "invalid", message: "expected hour, day, week or month"))
            }
        }
        let (from, to) = timeRange(parameters, errors: &errors)
        var dimensions = DimensionSet(metric, MetricDimensions.all, MetricDimensions.all)
        switch metric {
        case .incidents, .responseTimes:
            let category = text("category")
            if let category, category != MetricDimensions.all, IncidentCategory(rawValue: category) == nil {
                errors.append(.init(field: "category", code: "unknown", message: "not a canonical category"))
            }
            let group = metric == .incidents ? text("group") : nil
            if let group, CategoryGroup(rawValue: group) == nil {
                errors.append(.init(field: "group", code: "unknown", message: "expected person, property, society or non_criminal"))
            }
            if group != nil, text("area") != nil || category != nil {
                errors.append(.init(field: "group", code: "conflict", message: "group totals are kept over all areas and categories"))
            }
            dimensions = MetricDimensions(area: text("area") ?? MetricDimensions.all, category: category ?? MetricDimensions.all, group: group).set
        case .alerts:
            let channel = text("channel") ?? MetricDimensions.all
            if channel != MetricDimensions.all, !channels.contains(channel) {
                errors.append(.init(field: "channel", code: "unknown", message: "expected webhook, email or sms"))
            }
            let role = text("role") ?? MetricDimensions.all
            if role != MetricDimensions.all, !roles.contains(role) { errors.append(.init(field: "role", code: "unknown", message: "not a stakeholder role")) }
            dimensions = DimensionSet(metric, channel, role)
        case .engagement, .perceivedSafety:
            let role = text("role") ?? MetricDimensions.all
            if role != MetricDimensions.all, !roles.contains(role) { errors.append(.init(field: "role", code: "unknown", message: "not a stakeholder role")) }
            dimensions = DimensionSet(metric, text("area") ?? MetricDimensions.all, role)
        }
        guard errors.isEmpty else { throw ProblemDetails(status: .badRequest, title: "Invalid metric query", errors: errors) }
        return MetricQuery(metric: metric, granularity: granularity, from: from, to: to, dimensions: dimensions)
    }

    /// `from` and `to` (RFC 3339 with offset): by default the 90 days up to tomorrow.
    static func timeRange(_ parameters: Parameters, errors: inout [ProblemDetails.FieldError]) -> (Date, Date) {
        func time(_ name: String, default fallback: Date) -> Date {
            guard let value = parameters.get(name), !value.isEmpty else { return fallback }
            guard let date = RFC3339.date(from: String(value)) else {
                errors.append(.init(field: name, code: "invalid", message: "expected an RFC 3339 time with offset"))
                return fallback
            }
            return date
        }
        let to = time("to", default: Date().addingTimeInterval(86_400))
        let from = time("from", default: to.addingTimeInterval(-90 * 86_400))
        if from >= to { errors.append(.init(field: "from", code: "invalid", message: "from must be before to")) }
        if to.timeIntervalSince(from) > maximumSpan { errors.append(.init(field: "from", code: "too_wide", message: "at most 20 years per query")) }
        return (from, to)
    }
}
