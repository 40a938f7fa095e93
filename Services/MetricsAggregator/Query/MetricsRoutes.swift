import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The query API (docs/openapi/metrics-aggregator.yaml). Reading needs no credential: without
/// the operator token the answer is the public scope (SPEC §6), where a count below `k` is
/// withheld (`count: null, suppressed: true`); with it, everything.
struct MetricsRoutes: Sendable {
    /// Most windows one query returns.
    static let maximumWindows = 10_000

    let postgres: PostgresClient
    let dimensions: DimensionSets
    let calendar: WindowCalendar
    let operatorToken: String?
    let suppression: SuppressionRule

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/metrics/{name}") { request, context in
            let name = context.parameters.get("name") ?? ""
            guard let metric = MetricName(rawValue: name) else {
                throw ProblemDetails(
                    status: .notFound, detail: "Unknown metric \"\(name)\"; known: \(MetricName.allCases.map(\.rawValue).sorted().joined(separator: ", ")).")
            }
            let query = try MetricQuery.parse(metric, request.uri.queryParameters)
            return try Self.json(try await series(query, operator: isOperator(request)))
        }
        router.get("/v1/trends") { request, _ in
            try Self.json(try await Trends(postgres: postgres, dimensions: dimensions, calendar: calendar, suppression: suppression)
                .report(request, operatorScope: isOperator(request)))
        }
        router.get("/v1/dimensions") { request, _ in try Self.json(try await dimensionList(request)) }
        router.get("/v1/hotspots") { request, _ in try Self.json(try await hotspots(request)) }
        router.get("/v1/stream") { request, _ in
            try await MetricStream(postgres: postgres, dimensions: dimensions, suppression: suppression).response(request, operatorScope: isOperator(request))
        }
    }

    struct DimensionList: Encodable {
        var metric: String
        var dimensions: [[String: String]]
    }

    /// `GET /v1/dimensions?metric=…`: every dimension set the metric has rows for (which areas,
    /// categories, channels, roles a dashboard can ask about), in key order.
    func dimensionList(_ request: Request) async throws -> DimensionList {
        let name = request.uri.queryParameters.get("metric").map { String($0) } ?? MetricName.incidents.rawValue
        guard let metric = MetricName(rawValue: name) else {
            throw ProblemDetails(status: .badRequest, title: "Invalid dimension query", errors: [
                .init(field: "metric", code: "unknown", message: "expected one of " + MetricName.allCases.map(\.rawValue).joined(separator: ", ")),
            ])
        }
        let rows = try await postgres.query("""
            SELECT dimensions::text FROM metric_dimension_sets WHERE metric = \(metric.rawValue) ORDER BY dimension_key LIMIT 100000
            """)
        let sets = try rows.map { row in
            (try? JSONSerialization.jsonObject(with: Data(try row.decode(0, as: String.self).utf8))) as? [String: String] ?? [:]
        }
        return DimensionList(metric: metric.rawValue, dimensions: sets)
    }

    struct HotspotList: Encodable {
        var scope: String
        var hotspots: [Hotspot]
    }

    struct Hotspot: Encodable {
        var episodeId: UUID
        /// Operator scope only: a cell is finer than an area (SPEC §6).
        var cell: String?
        var area: String
        var phase: String
        var count7d: Int
        var baseline28d: Double
        var pValue: Double
        var startedAt: Date
        var updatedAt: Date?
        var endedAt: Date?

        enum CodingKeys: String, CodingKey {
            case episodeId, cell, area, phase, count7d = "count_7d", baseline28d = "baseline_28d", pValue, startedAt, updatedAt, endedAt
        }
    }

    /// Open episodes, or all with `?state=all` (newest first).
    func hotspots(_ request: Request) async throws -> HotspotList {
        let state = request.uri.queryParameters.get("state").map { String($0) } ?? "open"
        guard state == "open" || state == "all" else {
            throw ProblemDetails(status: .badRequest, title: "Invalid hotspot query", errors: [.init(field: "state", code: "invalid", message: "expected open or all")])
        }
        let operatorScope = isOperator(request)
        let rows = try await postgres.query("""
            SELECT episode_id, cell, area_id, phase, count_7d, baseline_28d, p_value, started_at, updated_at, ended_at
            FROM metric_hotspot_episodes WHERE \(state == "all") OR ended_at IS NULL ORDER BY started_at DESC, cell LIMIT 1000
            """)
        let hotspots = try rows.map { row in
            let (id, cell, area, phase, count, baseline, pValue, started, updated, ended) =
                try row.decode((UUID, String, String, String, Int, Double, Double, Date, Date?, Date?).self)
            return Hotspot(
                episodeId: id, cell: operatorScope ? cell : nil, area: area, phase: phase, count7d: count, baseline28d: baseline, pValue: pValue,
                startedAt: started, updatedAt: updated, endedAt: ended)
        }
        return HotspotList(scope: operatorScope ? "operator" : "public", hotspots: hotspots)
    }

    /// Whether the request carries the operator token (else: public scope).
    func isOperator(_ request: Request) -> Bool {
        guard let token = operatorToken, !token.isEmpty, let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return false
        }
        return OperatorAuthentication.constantTimeEqual(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), token)
    }

    struct Series: Encodable {
        var metric: String
        var granularity: Granularity
        var scope: String
        var series: [Point]
    }

    /// One window: its bounds, its dimensions as members (`area`, `category`, `channel`, …),
    /// `count`, the metric's other values, `revision` and `final`.
    struct Point: Encodable {
        var windowStart: Date
        var windowEnd: Date
        var dimensions: [String: String]
        var count: Int64?
        /// The metric's other values (`p50_seconds`, …); null with the count when withheld.
        var values: [(String, Double?)]
        var suppressed: Bool?
        var revision: Int32
        var final: Bool

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        // A withheld count is an explicit `null` next to `suppressed: true`, not a missing key.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(windowStart, forKey: Key("window_start"))
            try container.encode(windowEnd, forKey: Key("window_end"))
            for (name, value) in dimensions.sorted(by: { $0.key < $1.key }) { try container.encode(value, forKey: Key(name)) }
            if let count { try container.encode(count, forKey: Key("count")) } else { try container.encodeNil(forKey: Key("count")) }
            try container.encodeIfPresent(suppressed, forKey: Key("suppressed"))
            try container.encode(revision, forKey: Key("revision"))
            try container.encode(final, forKey: Key("final"))
            for (name, value) in values {
                if let value { try container.encode(value, forKey: Key(name)) } else { try container.encodeNil(forKey: Key(name)) }
            }
        }
    }

    func series(_ query: MetricQuery, operator: Bool) async throws -> Series {
        var points: [Point] = []
        if let id = try await dimensions.existingID(query.metric, query.dimensions.key) {
            let rows = try await postgres.query("""
                SELECT window_start, window_end, count, "values"::text, revision, final FROM metric_values
                WHERE dimension_id = \(id) AND granularity = \(query.granularity.code) AND window_start >= \(query.from) AND window_start < \(query.to)
                ORDER BY window_start LIMIT \(Self.maximumWindows)
                """)
            points.reserveCapacity(rows.count)
            let names = query.metric.valueNames
            for row in rows {
                let (start, end, count, valuesJSON, revision, final) = try row.decode((Date, Date, Int64, String?, Int32, Bool).self)
                // Public scope: no row below k, whatever its category (this API has nothing finer
                // than the area, so sensitive categories never show below area level).
                let withheld = !`operator` && suppression.withholds(count: count, sensitive: true)
                let values = WindowRows.values(names, fromJSON: valuesJSON)
                points.append(Point(
                    windowStart: start, windowEnd: end, dimensions: query.dimensions.object, count: withheld ? nil : count,
                    values: zip(names, values).map { ($0, withheld ? nil : $1) }, suppressed: withheld ? true : nil, revision: revision,
                    final: final))
            }
        }
        return Series(metric: query.metric.rawValue, granularity: query.granularity, scope: `operator` ? "operator" : "public", series: points)
    }

    static func json(_ value: some Encodable) throws -> Response {
        let data = try CoalitionJSON.encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
