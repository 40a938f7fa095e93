import Contracts
import Foundation
import Hummingbird
import ServiceKit

/// The query string of `GET /v1/metrics/{name}`, validated: bad values are a 400 naming each
/// offending parameter. An absent `area` or `category` means the total over it.
struct MetricQuery: Sendable, Equatable {
    var granularity: Granularity
    var from: Date
    var to: Date
    var area: String?
    var category: String?
    var group: String?

    static let maximumSpan: TimeInterval = 20 * 366 * 86_400

    static func parse(_ parameters: Parameters) throws -> MetricQuery {
        var errors: [ProblemDetails.FieldError] = []
        func text(_ name: String) -> String? {
            guard let value = parameters.get(name), !value.isEmpty else { return nil }
            return String(value)
        }
        var granularity = Granularity.day
        if let value = text("granularity") {
            if let parsed = Granularity(rawValue: value) { granularity = parsed } else {
                errors.append(.init(field: "granularity", code: "invalid", message: "expected hour, day, week or month"))
            }
        }
        func time(_ name: String, default fallback: Date) -> Date {
            guard let value = text(name) else { return fallback }
            guard let date = RFC3339.date(from: value) else {
                errors.append(.init(field: name, code: "invalid", message: "expected an RFC 3339 time with offset"))
                return fallback
            }
            return date
        }
        let to = time("to", default: Date().addingTimeInterval(86_400))
        let from = time("from", default: to.addingTimeInterval(-90 * 86_400))
        if from >= to { errors.append(.init(field: "from", code: "invalid", message: "from must be before to")) }
        if to.timeIntervalSince(from) > maximumSpan { errors.append(.init(field: "from", code: "too_wide", message: "at most 20 years per query")) }
        let category = text("category")
        if let category, category != MetricDimensions.all, IncidentCategory(rawValue: category) == nil {
            errors.append(.init(field: "category", code: "unknown", message: "not a canonical category"))
        }
        let group = text("group")
        if let group, CategoryGroup(rawValue: group) == nil {
            errors.append(.init(field: "group", code: "unknown", message: "expected person, property, society or non_criminal"))
        }
        if group != nil, text("area") != nil || category != nil {
            errors.append(.init(field: "group", code: "conflict", message: "group totals are kept over all areas and categories"))
        }
        guard errors.isEmpty else { throw ProblemDetails(status: .badRequest, title: "Invalid metric query", errors: errors) }
        return MetricQuery(granularity: granularity, from: from, to: to, area: text("area"), category: category, group: group)
    }
}
