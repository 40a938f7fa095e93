import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// `GET /v1/trends`: how incident counts are moving for one set of dimensions, from the daily
/// windows (local days of `COALITION_TIMEZONE`), up to and including the day of `at`:
///
/// - week over week: the last 7 days against the 7 before;
/// - 28 days: the last 28 days against the 28 before;
/// - year to date: 1 January to that day against the same dates a year earlier.
///
/// `change` is (current − previous) / previous, `null` when previous is 0. The public scope
/// withholds any figure between 1 and k − 1, like the series.
struct Trends: Sendable {
    struct Comparison: Encodable, Equatable {
        var currentFrom: Date
        var currentTo: Date
        var previousFrom: Date
        var previousTo: Date
        var current: Int64?
        var previous: Int64?
        var change: Double?
        var suppressed: Bool?

        enum CodingKeys: String, CodingKey { case currentFrom, currentTo, previousFrom, previousTo, current, previous, change, suppressed }

        // Withheld or undefined figures are explicit nulls.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(currentFrom, forKey: .currentFrom)
            try container.encode(currentTo, forKey: .currentTo)
            try container.encode(previousFrom, forKey: .previousFrom)
            try container.encode(previousTo, forKey: .previousTo)
            if let current { try container.encode(current, forKey: .current) } else { try container.encodeNil(forKey: .current) }
            if let previous { try container.encode(previous, forKey: .previous) } else { try container.encodeNil(forKey: .previous) }
            if let change { try container.encode(change, forKey: .change) } else { try container.encodeNil(forKey: .change) }
            try container.encodeIfPresent(suppressed, forKey: .suppressed)
        }
    }

    struct Report: Encodable {
        var metric: String
        var scope: String
        var dimensions: [String: String]
        var referenceDay: String
        var weekOverWeek: Comparison
        var last28Days: Comparison
        var yearToDate: Comparison

        enum CodingKeys: String, CodingKey {
            case metric, scope, dimensions, referenceDay, weekOverWeek, last28Days = "last_28_days", yearToDate
        }
    }

    /// The periods compared for the local day containing `at`: (current, previous) ranges.
    static func periods(at: Date, calendar: WindowCalendar) -> [(current: Range<Date>, previous: Range<Date>)] {
        let dayEnd = calendar.startOfDay(at, addingDays: 1)
        let week = calendar.startOfDay(at, addingDays: -6)
        let weekBefore = calendar.startOfDay(at, addingDays: -13)
        let days28 = calendar.startOfDay(at, addingDays: -27)
        let days28Before = calendar.startOfDay(at, addingDays: -55)
        let yearStart = calendar.startOfYear(at)
        let lastYearStart = calendar.startOfYear(at, addingYears: -1)
        let lastYearEnd = calendar.startOfDay(calendar.sameDay(at, addingYears: -1), addingDays: 1)
        return [(week..<dayEnd, weekBefore..<week), (days28..<dayEnd, days28Before..<days28), (yearStart..<dayEnd, lastYearStart..<lastYearEnd)]
    }

    let postgres: PostgresClient
    let dimensions: DimensionSets
    let calendar: WindowCalendar
    let suppression: SuppressionRule

    func report(_ request: Request, operatorScope: Bool) async throws -> Report {
        let parameters = request.uri.queryParameters
        var errors: [ProblemDetails.FieldError] = []
        var at = Date()
        if let value = parameters.get("at"), !value.isEmpty {
            if let date = RFC3339.date(from: String(value)) { at = date } else {
                errors.append(.init(field: "at", code: "invalid", message: "expected an RFC 3339 time with offset"))
            }
        }
        // The same dimension parameters as the incident series (`from`, `to` and `granularity` play no part).
        let query: MetricQuery
        do {
            query = try MetricQuery.parse(.incidents, parameters)
        } catch let problem as ProblemDetails {
            throw ProblemDetails(status: .badRequest, title: "Invalid trend query", errors: errors + problem.errors)
        }
        guard errors.isEmpty else { throw ProblemDetails(status: .badRequest, title: "Invalid trend query", errors: errors) }

        let periods = Self.periods(at: at, calendar: calendar)
        let id = try await dimensions.existingID(.incidents, query.dimensions.key)
        var sums: [Int64] = Array(repeating: 0, count: 6)
        if let id {
            let (week, weekBefore) = periods[0], (days28, days28Before) = periods[1], (year, yearBefore) = periods[2]
            if let row = try await postgres.query("""
                SELECT coalesce(sum(count) FILTER (WHERE window_start >= \(week.lowerBound) AND window_start < \(week.upperBound)), 0)::bigint,
                       coalesce(sum(count) FILTER (WHERE window_start >= \(weekBefore.lowerBound) AND window_start < \(weekBefore.upperBound)), 0)::bigint,
                       coalesce(sum(count) FILTER (WHERE window_start >= \(days28.lowerBound) AND window_start < \(days28.upperBound)), 0)::bigint,
                       coalesce(sum(count) FILTER (WHERE window_start >= \(days28Before.lowerBound) AND window_start < \(days28Before.upperBound)), 0)::bigint,
                       coalesce(sum(count) FILTER (WHERE window_start >= \(year.lowerBound) AND window_start < \(year.upperBound)), 0)::bigint,
                       coalesce(sum(count) FILTER (WHERE window_start >= \(yearBefore.lowerBound) AND window_start < \(yearBefore.upperBound)), 0)::bigint
                FROM metric_values
                WHERE dimension_id = \(id) AND granularity = \(Granularity.day.code)
                  AND window_start >= \(min(yearBefore.lowerBound, days28Before.lowerBound)) AND window_start < \(week.upperBound)
                """).first {
                sums = try (0..<6).map { try row.decode($0, as: Int64.self) }
            }
        }
        func comparison(_ index: Int) -> Comparison {
            let (current, previous) = periods[index]
            let currentCount = sums[index * 2], previousCount = sums[index * 2 + 1]
            let withheld = !operatorScope
                && (suppression.withholds(count: currentCount, sensitive: true) || suppression.withholds(count: previousCount, sensitive: true))
            return Comparison(
                currentFrom: current.lowerBound, currentTo: current.upperBound, previousFrom: previous.lowerBound, previousTo: previous.upperBound,
                current: withheld ? nil : currentCount, previous: withheld ? nil : previousCount,
                change: withheld || previousCount == 0 ? nil : Double(currentCount - previousCount) / Double(previousCount),
                suppressed: withheld ? true : nil)
        }
        return Report(
            metric: MetricName.incidents.rawValue, scope: operatorScope ? "operator" : "public", dimensions: query.dimensions.object,
            referenceDay: calendar.dayString(at), weekOverWeek: comparison(0), last28Days: comparison(1), yearToDate: comparison(2))
    }
}
