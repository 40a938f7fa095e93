import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// `GET /v1/stream`: every metric update as Server-Sent Events, in publication order
/// (`metric_updates`). The event id is the update's sequence number, so a client that
/// reconnects with `Last-Event-ID` (header, or `last_event_id` in the query) misses nothing;
/// without one it starts with what comes next. The public scope applies the same
/// withholding as the query API.
struct MetricStream: Sendable {
    static let pollInterval: Duration = .milliseconds(250)
    static let keepAlive: Duration = .seconds(15)

    let postgres: PostgresClient
    let suppression: SuppressionRule

    func response(_ request: Request, operatorScope: Bool) async throws -> Response {
        let header = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
            ?? request.uri.queryParameters.get("last_event_id").map { String($0) }
        let start: Int64
        if let header {
            guard let value = Int64(header.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw ProblemDetails(status: .badRequest, title: "Invalid Last-Event-ID", errors: [.init(field: "Last-Event-ID", code: "invalid", message: "expected an event id from this stream")])
            }
            start = value
        } else {
            start = try await postgres.query("SELECT coalesce(max(id), 0)::bigint FROM metric_updates").first?.decode(0, as: Int64.self) ?? 0
        }
        let postgres = self.postgres
        let suppression = self.suppression
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var last = start
                var quietSince = ContinuousClock.now
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                while !Task.isCancelled {
                    let rows = try await postgres.query("""
                        SELECT id, metric, payload::text FROM metric_updates WHERE id > \(last) ORDER BY id LIMIT 500
                        """)
                    var text = ""
                    for row in rows {
                        let (id, metric, payload) = try row.decode((Int64, String, String).self)
                        let data = operatorScope ? payload : Self.publicPayload(payload, suppression: suppression)
                        text += "id: \(id)\nevent: \(metric)\ndata: \(data)\n\n"
                        last = id
                    }
                    if !text.isEmpty {
                        try await writer.write(ByteBuffer(string: text))
                        quietSince = .now
                    } else if ContinuousClock.now - quietSince > Self.keepAlive {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        quietSince = .now
                    }
                    if rows.count < 500 { try await Task.sleep(for: Self.pollInterval) }
                }
                try await writer.finish(nil)
            })
    }

    /// A `coalition.metric.v1` payload with its values withheld when its count is below k.
    static func publicPayload(_ payload: String, suppression: SuppressionRule) -> String {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any],
              let values = object["values"] as? [String: Any], let count = (values["count"] as? NSNumber)?.int64Value,
              suppression.withholds(count: count, sensitive: true) else { return payload }
        object["values"] = values.mapValues { _ in NSNull() }
        object["suppressed"] = true
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return payload }
        return String(decoding: data, as: UTF8.self)
    }
}
