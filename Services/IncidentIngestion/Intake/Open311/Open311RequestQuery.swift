import Contracts
import Foundation
import Postgres

/// The filters of `GET /open311/v2/requests.json`, read as GeoReport v2 defines them:
///
/// - `service_request_id`: a comma-separated list of ids; when present every other filter
///   is ignored.
/// - `service_code`: a comma-separated list of canonical codes (an unknown code is a 400,
///   not an empty answer).
/// - `start_date` / `end_date`: inclusive bounds on `requested_datetime`, W3C date-times
///   with an offset. At most 90 days apart; without them the last 90 days, with one of them
///   90 days from (or up to) it. A `+` of an offset left unescaped in the URL arrives as a
///   space and is read as `+`.
/// - `status`: a comma-separated list of `open` and `closed`.
///
/// At most `limit` requests are returned, the most recently requested first.
struct Open311RequestQuery: Sendable, Equatable {
    enum Selection: Sendable, Equatable {
        case ids([String])
        case filter(serviceCodes: [String]?, start: Date, end: Date?, statuses: Set<String>?)
    }

    static let limit = 1000
    static let maximumSpan: TimeInterval = 90 * 24 * 3600
    static let maximumIDs = 1000

    var selection: Selection

    init(form: Open311Form, now: Date) throws(Open311Error) {
        if let list = form["service_request_id"] {
            let ids = Self.split(list)
            guard !ids.isEmpty else { throw .badRequest("service_request_id lists no id") }
            guard ids.count <= Self.maximumIDs else { throw .badRequest("service_request_id lists more than \(Self.maximumIDs) ids") }
            selection = .ids(ids)
            return
        }
        var serviceCodes: [String]?
        if let list = form["service_code"] {
            let codes = Self.split(list)
            if let unknown = codes.first(where: { IncidentCategory(rawValue: $0) == nil }) {
                throw .badRequest("service_code \(unknown) was not found")
            }
            serviceCodes = codes
        }
        var statuses: Set<String>?
        if let list = form["status"] {
            let words = Self.split(list)
            if let unknown = words.first(where: { $0 != "open" && $0 != "closed" }) {
                throw .badRequest("status \(unknown) is not open or closed")
            }
            statuses = Set(words)
        }
        let start = try Self.date(form["start_date"], name: "start_date")
        let end = try Self.date(form["end_date"], name: "end_date")
        let range: (start: Date, end: Date?)
        switch (start, end) {
        case (nil, nil):
            range = (now.addingTimeInterval(-Self.maximumSpan), nil)
        case (let start?, nil):
            range = (start, start.addingTimeInterval(Self.maximumSpan))
        case (nil, let end?):
            range = (end.addingTimeInterval(-Self.maximumSpan), end)
        case (let start?, let end?):
            guard start <= end else { throw .badRequest("start_date must not be after end_date") }
            guard end.timeIntervalSince(start) <= Self.maximumSpan else {
                throw .badRequest("start_date and end_date may not span more than 90 days")
            }
            range = (start, end)
        }
        selection = .filter(serviceCodes: serviceCodes, start: range.start, end: range.end, statuses: statuses)
    }

    /// The query over `incidents` of `source`: the stored document and when it was stored.
    func sql(source: String) -> PostgresQuery {
        // When the request was made: the source's report time, else the occurrence.
        let requested = "COALESCE((document->>'reported_at')::timestamptz, occurred_at)"
        var query: PostgresQuery = "SELECT document::text, updated_at FROM incidents WHERE source_id = \(source)"
        switch selection {
        case .ids(let ids):
            query.append(" AND external_id = ANY(\(ids))")
        case .filter(let serviceCodes, let start, let end, let statuses):
            query.append(" AND \(unsafeSQL: requested) >= \(start)")
            if let end { query.append(" AND \(unsafeSQL: requested) <= \(end)") }
            if let serviceCodes { query.append(" AND category = ANY(\(serviceCodes))") }
            if let statuses, statuses.count == 1 {
                // The same rule as `Open311ServiceRequest.isClosed`.
                let closed: PostgresQuery = """
                    (closed_at IS NOT NULL OR COALESCE(lower(btrim(document->>'status')) = ANY(\(Open311ServiceRequest.closedStatusWords)), false))
                    """
                query.append(statuses.contains("closed") ? " AND \(fragment: closed)" : " AND NOT \(fragment: closed)")
            }
        }
        query.append(" ORDER BY \(unsafeSQL: requested) DESC, external_id LIMIT \(Self.limit)")
        return query
    }

    private static func split(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func date(_ value: String?, name: String) throws(Open311Error) -> Date? {
        guard let value else { return nil }
        let text = value.replacingOccurrences(of: " ", with: "+")
        switch RFC3339Syntax.check(text) {
        case .valid:
            let canonical = text.contains(where: { $0 == "t" || $0 == "z" }) ? text.uppercased() : text
            guard let date = RFC3339.date(from: canonical) else { break }
            return date
        case .missingOffset:
            throw .badRequest("\(name) needs a UTC offset (Z or ±hh:mm), e.g. 2025-03-14T00:00:00Z")
        case .invalid:
            break
        }
        throw .badRequest("\(name) is not a W3C date-time, e.g. 2025-03-14T00:00:00Z")
    }
}
