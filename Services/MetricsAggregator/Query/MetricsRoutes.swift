import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The query API (docs/openapi/metrics-aggregator.yaml). Reading needs no credential: without
/// the operator token the answer is the public scope (SPEC §6), where a count below `k` is
/// withheld (`count: null, suppressed: true`); with it, everything.
public struct MetricsRoutes: Sendable {
    public static let metrics: Set<String> = [IncidentCountStore.metric, ResponseTimes.metric]
    /// Most windows one query returns.
    static let maximumWindows = 10_000

    let postgres: PostgresClient
    let operatorToken: String?
    let suppression: SuppressionRule

    public init(postgres: PostgresClient, operatorToken: String?, suppression: SuppressionRule) {
        self.postgres = postgres
        self.operatorToken = operatorToken
        self.suppression = suppression
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/metrics/{name}") { request, context in
            let name = context.parameters.get("name") ?? ""
            guard Self.metrics.contains(name) else {
                throw ProblemDetails(status: .notFound, detail: "Unknown metric \"\(name)\"; known: \(Self.metrics.sorted().joined(separator: ", ")).")
            }
            let query = try MetricQuery.parse(request.uri.queryParameters)
            return try Self.json(try await series(name, query, operator: isOperator(request)))
        }
        router.get("/v1/hotspots") { request, _ in try Self.json(try await hotspots(request)) }
        router.get("/v1/stream") { request, _ in
            try await MetricStream(postgres: postgres, suppression: suppression).response(request, operatorScope: isOperator(request))
        }
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

    struct Point: Encodable {
        var windowStart: Date
        var windowEnd: Date
        var area: String
        var category: String
        var categoryGroup: String?
        var count: Int64?
        /// The metric's other values (`p50_seconds`, …); null with the count when withheld.
        var values: [String: Double?]
        var suppressed: Bool?
        var revision: Int64

        enum CodingKeys: String, CodingKey {
            case windowStart, windowEnd, area, category, categoryGroup, count, suppressed, revision
        }

        struct ValueKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        // A withheld count is an explicit `null` next to `suppressed: true`, not a missing key.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(windowStart, forKey: .windowStart)
            try container.encode(windowEnd, forKey: .windowEnd)
            try container.encode(area, forKey: .area)
            try container.encode(category, forKey: .category)
            try container.encodeIfPresent(categoryGroup, forKey: .categoryGroup)
            if let count { try container.encode(count, forKey: .count) } else { try container.encodeNil(forKey: .count) }
            try container.encodeIfPresent(suppressed, forKey: .suppressed)
            try container.encode(revision, forKey: .revision)
            var others = encoder.container(keyedBy: ValueKey.self)
            for (name, value) in values.sorted(by: { $0.key < $1.key }) {
                if let value { try others.encode(value, forKey: ValueKey(stringValue: name)) } else { try others.encodeNil(forKey: ValueKey(stringValue: name)) }
            }
        }
    }

    func series(_ metric: String, _ query: MetricQuery, operator: Bool) async throws -> Series {
        let dimensions = MetricDimensions(area: query.area ?? MetricDimensions.all, category: query.category ?? MetricDimensions.all, group: query.group)
        let rows = try await postgres.query("""
            SELECT window_start, window_end, count, "values"::text, revision FROM metric_windows
            WHERE metric = \(metric) AND granularity = \(query.granularity.rawValue) AND dimension_key = \(dimensions.key)
              AND window_start >= \(query.from) AND window_start < \(query.to)
            ORDER BY window_start LIMIT \(Self.maximumWindows)
            """)
        var points: [Point] = []
        points.reserveCapacity(rows.count)
        for row in rows {
            let (start, end, count, valuesJSON, revision) = try row.decode((Date, Date, Int64, String, Int64).self)
            let stored = (try? JSONSerialization.jsonObject(with: Data(valuesJSON.utf8))) as? [String: Any] ?? [:]
            // Public scope: no cell below k, whatever its category (this API has nothing finer
            // than the area, so sensitive categories never show below area level).
            let withheld = !`operator` && suppression.withholds(count: count, sensitive: true)
            points.append(Point(
                windowStart: start, windowEnd: end, area: dimensions.area, category: dimensions.category, categoryGroup: dimensions.group,
                count: withheld ? nil : count,
                values: stored.mapValues { withheld ? nil : ($0 as? NSNumber)?.doubleValue }, suppressed: withheld ? true : nil, revision: revision))
        }
        return Series(metric: metric, granularity: query.granularity, scope: `operator` ? "operator" : "public", series: points)
    }

    static func json(_ value: some Encodable) throws -> Response {
        let data = try CoalitionJSON.encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
