import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import IncidentIngestion
@testable import MetricsAggregator

/// `coalition metrics rebuild`: after incidents are re-categorised in the incidents table
/// without a new event, the rebuilt range equals SQL over the table again.
@Suite("coalition metrics rebuild", .serialized)
struct RebuildTests {
    @Test("re-categorised incidents are recounted by the CLI; counts equal SQL over the incidents table")
    func rebuild() async throws {
        try await withTemporaryDatabase { databaseURL in
            let postgres = try MetricsFixtures.connect(databaseURL)
            defer { postgres.shutdown() }
            try await MetricsFixtures.importNYC(postgres)
            let store = MetricsStore(
                postgres: postgres, consumer: "rebuild-test", calendar: WindowCalendar(timeZone: TimeZone(identifier: "America/New_York")!),
                grace: .seconds(7 * 86_400), logger: TestEnvironment.logger)
            var offset: Int64 = 0
            var batch: [DecodedRecord] = []
            for row in try await postgres.query("SELECT document::text FROM incidents ORDER BY id") {
                let incident = try CoalitionJSON.decoder.decode(CanonicalIncident.self, from: Data(try row.decode(0, as: String.self).utf8))
                batch.append(DecodedRecord(message: KafkaMessage(topic: "t", partition: 0, offset: offset, key: nil, value: [], headers: [], timestamp: nil), input: .incident(CountedIncident(incident))))
                offset += 1
            }
            try await store.apply(batch)

            func expected() async throws -> [String: Int64] {
                var result: [String: Int64] = [:]
                for row in try await postgres.query("""
                    SELECT to_char(occurred_at AT TIME ZONE 'America/New_York', 'YYYY-MM-DD') || ' ' || area_id || ' ' || category, count(*)::bigint
                    FROM incidents GROUP BY 1
                    """) {
                    let (key, value) = try row.decode((String, Int64).self)
                    result[key] = value
                }
                return result
            }
            #expect(try await MetricsFixtures.dailyCounts(postgres, timezone: "America/New_York") == expected())

            // A mapping change applied to the stored incidents of 1–10 March, without events.
            let changed = try await postgres.execute("""
                UPDATE incidents SET category = 'noise',
                       document = jsonb_set(jsonb_set(document, '{category}', '"noise"'), '{category_group}', '"non_criminal"')
                WHERE occurred_at >= '2025-03-01T05:00:00Z' AND occurred_at < '2025-03-11T04:00:00Z' AND category <> 'noise'
                """)
            #expect(changed > 100)
            #expect(try await MetricsFixtures.dailyCounts(postgres, timezone: "America/New_York") != expected())

            let cli = try ChildProcess(
                try TestEnvironment.product("coalition"),
                arguments: ["metrics", "rebuild", "--from", "2025-03-01T00:00:00-05:00", "--to", "2025-03-11T00:00:00-04:00"],
                environment: ["COALITION_DATABASE_URL": databaseURL, "COALITION_TIMEZONE": "America/New_York"])
            #expect(try await cli.waitForExit(timeout: .seconds(120)) == 0, "\(cli.standardError)")
            #expect(cli.lines.last?.hasPrefix("recounted") == true)
            #expect(try await MetricsFixtures.dailyCounts(postgres, timezone: "America/New_York") == expected())

            // Nothing left to do: a second rebuild changes no window.
            let again = try await store.rebuild(from: try Date.ISO8601FormatStyle().parse("2025-03-01T05:00:00Z"), to: try Date.ISO8601FormatStyle().parse("2025-03-11T04:00:00Z"))
            #expect(again.changedWindows == 0)
        }
    }
}
