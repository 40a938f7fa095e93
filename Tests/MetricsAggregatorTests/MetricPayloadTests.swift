import Contracts
import Foundation
import Testing
@testable import MetricsAggregator

/// The publisher's hand-written payloads are the bytes `CoalitionJSON.encoder` writes for the
/// same `MetricMessage`, and the update log's entries come back as they went in.
@Suite("Metric payloads and the update log's entries")
struct MetricPayloadTests {
    static func update(_ metric: MetricName, values: [Double?], count: Int64 = 7, final: Bool = false) -> MetricUpdate {
        MetricUpdate(
            metric: metric, granularity: .week, dimensionID: 42, windowStart: 1_741_564_800, windowEnd: 1_742_169_600, count: count,
            values: values, revision: 3, final: final)
    }

    @Test("same bytes as encoding a MetricMessage, for every metric, withheld or not")
    func sameAsEncoder() throws {
        let computed = Date(timeIntervalSince1970: 1_742_000_000.123)
        let cases: [(MetricUpdate, DimensionSet, Bool)] = [
            (Self.update(.incidents, values: []), MetricDimensions(area: "05 brooklyn \"east\" / ünï\\", category: "theft").set, false),
            (Self.update(.incidents, values: [], count: 2), MetricDimensions(area: "a", category: "sex_offense").set, true),
            (Self.update(.incidents, values: [], count: 0, final: true), MetricDimensions(group: "person").set, false),
            (Self.update(.responseTimes, values: [1800, 5432.25, nil]), MetricDimensions(area: "*", category: "*").set, false),
            (Self.update(.alerts, values: [3, 1, 0, 2, 0.75, 12.5, 1e20, 123.456789]), DimensionSet(.alerts, "webhook", "resident"), false),
            (Self.update(.engagement, values: [1, 1, 4, 1, 0, 1, 2, 0.5]), DimensionSet(.engagement, "downtown", "law_enforcement"), false),
            (Self.update(.perceivedSafety, values: [5, 3.4]), DimensionSet(.perceivedSafety, "harbor", "*"), true),
        ]
        for (update, dimensions, withheld) in cases {
            var values: [String: Double?] = ["count": Double(update.count)]
            for (name, value) in zip(update.metric.valueNames, update.values) { values[name] = value }
            let message = MetricMessage(
                metric: update.metric.rawValue, granularity: update.granularity, windowStart: Date(timeIntervalSince1970: Double(update.windowStart)),
                windowEnd: Date(timeIntervalSince1970: Double(update.windowEnd)), dimensions: dimensions.object,
                values: withheld ? values.mapValues { _ in nil } : values, revision: Int64(update.revision), final: update.final,
                suppressed: withheld ? true : nil, computedAt: computed)
            let expected = try CoalitionJSON.encoder.encode(message)
            let ours = MetricPayloadWriter.payload(update, dimensions: dimensions, withheld: withheld, computedAt: computed)
            #expect(String(decoding: ours, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
            #expect(try CoalitionJSON.decoder.decode(MetricMessage.self, from: Data(ours)) == CoalitionJSON.decoder.decode(MetricMessage.self, from: expected))
        }
    }

    @Test("entries round-trip through the log's binary form; a cut entry is an error")
    func coding() throws {
        let updates = [
            Self.update(.incidents, values: [], count: -1), Self.update(.responseTimes, values: [nil, 0, -0.5], final: true),
            MetricUpdate(metric: .alerts, granularity: .hour, dimensionID: Int32.max, windowStart: -86_400, windowEnd: 0, count: Int64.max,
                         values: [1, 2, 3, 4, nil, .infinity, 7, 8], revision: Int32.max, final: false),
        ]
        let bytes = MetricUpdateCoding.encode(updates)
        #expect(try MetricUpdateCoding.decode(bytes) == updates)
        #expect(throws: MetricsStoreError.self) { try MetricUpdateCoding.decode(Array(bytes.dropLast(3))) }
        #expect(try MetricUpdateCoding.decode([]).isEmpty)
    }

    @Test("window times format as RFC 3339 UTC seconds, before and after 1970")
    func times() {
        // (Foundation switches to the Julian calendar before 1582; no window is that old.)
        for seconds: Int64 in [0, -1, 1_741_564_800, 951_782_400, -2_208_988_800, 4_102_444_799] {
            let date = Date(timeIntervalSince1970: Double(seconds))
            let expected = date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
            #expect(MetricTime.string(epoch: seconds) == expected, "\(seconds)")
        }
    }
}
