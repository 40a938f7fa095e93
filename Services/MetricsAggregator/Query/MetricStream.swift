import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// `GET /v1/stream`: every metric update as Server-Sent Events, in publication order (the
/// update log's published rows). An event's id is its position, `published_seq * 2^20 +
/// index`, so a client that reconnects with `Last-Event-ID` (header, or `last_event_id` in
/// the query) misses nothing still kept (7 days); without one it starts with what comes
/// next. The public scope applies the same withholding as the query API.
struct MetricStream: Sendable {
    static let pollInterval: Duration = .milliseconds(250)
    static let keepAlive: Duration = .seconds(15)
    static let lastIndex: Int64 = (1 << MetricUpdateLog.indexBits) - 1

    let postgres: PostgresClient
    let dimensions: DimensionSets
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
            start = try await MetricUpdateLog.lastPublishedSeq(postgres: postgres) << MetricUpdateLog.indexBits | Self.lastIndex
        }
        let postgres = self.postgres
        let dimensions = self.dimensions
        let suppression = self.suppression
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                var last = start
                var quietSince = ContinuousClock.now
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                while !Task.isCancelled {
                    // The position's own row is done when its index is the last possible one.
                    let seq = last >> MetricUpdateLog.indexBits
                    let next = last & Self.lastIndex == Self.lastIndex ? seq + 1 : seq
                    let batches = try await MetricUpdateLog.published(after: next - 1, limit: 2, postgres: postgres)
                    var wrote = false
                    for batch in batches {
                        guard let published = batch.publishedSeq else { continue }
                        let entries = try await dimensions.entries(Set(batch.updates.map(\.dimensionID)))
                        var payloads = MetricPayloadWriter(computedAt: batch.createdAt)
                        var text = ""
                        for (index, update) in batch.updates.enumerated() {
                            let id = published << MetricUpdateLog.indexBits | Int64(index)
                            guard id > last, let entry = entries[update.dimensionID] else { continue }
                            let withheld = !operatorScope && suppression.withholds(count: update.count, sensitive: true)
                            let data = payloads.payload(update, dimensions: entry.set, withheld: withheld)
                            text += "id: \(id)\nevent: \(update.metric.rawValue)\ndata: "
                            text += String(decoding: data, as: UTF8.self)
                            text += "\n\n"
                            last = id
                            if text.utf8.count > 1 << 20 {
                                try await writer.write(ByteBuffer(string: text))
                                text = ""
                            }
                        }
                        // A row whose entries were all sent: continue after it.
                        last = max(last, published << MetricUpdateLog.indexBits | Self.lastIndex)
                        if !text.isEmpty {
                            try await writer.write(ByteBuffer(string: text))
                            wrote = true
                        }
                    }
                    if wrote {
                        quietSince = .now
                    } else if ContinuousClock.now - quietSince > Self.keepAlive {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        quietSince = .now
                    }
                    if batches.count < 2 { try await Task.sleep(for: Self.pollInterval) }
                }
                try await writer.finish(nil)
            })
    }
}
