import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport
@testable import MeetingScheduler

/// Hotspot episodes from `metrics.hotspots` become one emergency meeting each, however often
/// they are delivered and across a crash of the scheduler.
extension SchedulerIntegrationTests {
    @Suite("Emergency meetings", .serialized)
    struct EmergencyTests {
        static func episode(_ id: UUID, area: String, phase: HotspotEpisode.Phase = .start) -> HotspotEpisode {
            HotspotEpisode(episodeId: id, cell: "dr5rsq", area: area, phase: phase, count7d: 14, baseline28d: 3.2, pValue: 0.0004, startedAt: Date())
        }

        static func publish(_ records: [KafkaRecord]) async throws {
            let producer = try KafkaProducer(configuration: .init(kafka: try TestEnvironment.kafka()), logger: TestEnvironment.logger)
            _ = try await producer.sendAll(records)
            await producer.shutdown()
        }

        static func record(_ episode: HotspotEpisode, topic: String) throws -> KafkaRecord {
            try CloudEvent(id: UUID().uuidString.lowercased(), source: "/test/metrics", type: EventType.hotspot, payload: episode)
                .kafkaRecord(topic: topic, key: episode.cell)
        }

        func handled(_ harness: SchedulerHarness, _ episode: UUID) async throws -> String? {
            try await harness.postgres.query("SELECT outcome FROM hotspot_episodes_handled WHERE episode_id = \(episode)").first?.decode(0, as: String.self)
        }

        @Test("an episode delivered twice, then again after SIGKILL and restart, yields one emergency meeting; bad records go to the DLT with the reason")
        func onePerEpisode() async throws {
            try await SchedulerHarness.with("schedhot") { harness in
                let area = "brooklyn-05"
                let invited = [
                    try await harness.stakeholder("Officer Diaz", .lawEnforcement, area: area),
                    try await harness.stakeholder("Ms Reyes", .communityOrg, area: area),
                    try await harness.stakeholder("Council member Okafor", .localGovernment, area: area),
                    try await harness.stakeholder("Pastor Lee", .faithOrg, area: area),
                ]
                try await harness.stakeholder("Elsewhere", .lawEnforcement, area: "queens-01")
                let topic = harness.prefix + "metrics.hotspots"
                let episode = Self.episode(UUID(), area: area)
                let quiet = Self.episode(UUID(), area: "staten-02")
                let bad = KafkaRecord(topic: topic, key: Array("dr5rsq".utf8), value: Array(#"{"episode_id":"nope"}"#.utf8), headers: [])
                let before = Date()
                try await Self.publish([try Self.record(episode, topic: topic), bad, try Self.record(episode, topic: topic),
                                        try Self.record(Self.episode(episode.episodeId, area: area, phase: .update), topic: topic), try Self.record(quiet, topic: topic)])
                // The last record answered means every earlier one (one partition) was processed.
                try await eventually("the episodes to be handled", timeout: .seconds(90)) { try await handled(harness, quiet.episodeId) != nil }
                #expect(try await handled(harness, episode.episodeId) == "scheduled")
                #expect(try await handled(harness, quiet.episodeId) == "unschedulable")

                harness.service.process.signal(SIGKILL)
                _ = try await harness.service.process.waitForExit(timeout: .seconds(20))
                let restarted = try await ServiceProcess.start(
                    "meeting-scheduler", environment: SchedulerHarness.environment(databaseURL: harness.databaseURL, prefix: harness.prefix))
                let sentinel = Self.episode(UUID(), area: "bronx-07")
                try await Self.publish([try Self.record(episode, topic: topic), try Self.record(sentinel, topic: topic)])
                try await eventually("the restarted scheduler to catch up", timeout: .seconds(90)) { try await handled(harness, sentinel.episodeId) != nil }
                _ = try await restarted.stop()

                let meetings = try await harness.postgres.query("""
                    SELECT id, type, area, hotspot_episode_id FROM meetings ORDER BY created_at
                    """).map { try $0.decode((UUID, String, String, UUID?).self) }
                #expect(meetings.count == 1)
                let meeting = try #require(meetings.first)
                #expect(meeting.1 == "emergency" && meeting.2 == area && meeting.3 == episode.episodeId)
                let start = try await harness.postgres.query("SELECT occurrence_start FROM meeting_occurrences WHERE meeting_id = \(meeting.0)").first?.decode(0, as: Date.self)
                let startDate = try #require(start)
                #expect(startDate > before && startDate < before.addingTimeInterval(72 * 3600))
                let invitees = try await harness.postgres.query("SELECT stakeholder_id FROM meeting_invitees WHERE meeting_id = \(meeting.0)").map { try $0.decode(0, as: UUID.self) }
                #expect(Set(invitees) == Set(invited))

                let events = try await harness.records("meetings.events", atLeast: 1)
                #expect(events.filter { $0.header("ce_type") == "coalition.meeting.scheduled.v1" }.count == 1)
                #expect(events.first?.json["hotspot_episode_id"] as? String == episode.episodeId.uuidString.lowercased())
                let dead = try await harness.records("metrics.hotspots.dlt", atLeast: 1)
                // The bad record is parked with its reason (again, if the kill came before its offset was committed).
                #expect(!dead.isEmpty && dead.allSatisfy { $0.value == bad.value })
                #expect(dead.allSatisfy { $0.header("coalition_dlt_error_code") == "invalid_hotspot_episode" })
                #expect(dead.allSatisfy { $0.header("coalition_dlt_consumer_group") == harness.prefix + "meeting-scheduler-hotspots" })
                #expect(dead.first?.header("coalition_dlt_error_message")?.isEmpty == false)
                let reason = try await harness.postgres.query("SELECT reason FROM hotspot_episodes_handled WHERE episode_id = \(quiet.episodeId)").first?.decode(0, as: String.self)
                #expect(reason?.hasPrefix("no community_org member is invited; no law_enforcement member is invited; no local_government member is invited") == true,
                        "\(reason ?? "")")
            }
        }

        @Test("no emergency meeting when the area already meets within 7 days")
        func notNeeded() async throws {
            try await SchedulerHarness.with("schedquiet") { harness in
                let area = "harlem-10"
                let police = try await harness.stakeholder("Officer Diaz", .lawEnforcement, area: area)
                let soon = Date().addingTimeInterval(2 * 86_400)
                let answer = try await harness.post("/v1/meetings/requests", [
                    "type": "coalition", "title": "Harlem coalition", "area": area, "duration_minutes": 60, "timezone": "America/New_York",
                    "window": ["start": RFC3339.string(from: soon), "end": RFC3339.string(from: soon.addingTimeInterval(86_400))],
                    "invitees": [["stakeholder_id": police.uuidString.lowercased()]],
                ])
                #expect(answer.status == 201, "\(answer.text)")
                let episode = Self.episode(UUID(), area: area)
                try await Self.publish([try Self.record(episode, topic: harness.prefix + "metrics.hotspots")])
                try await eventually("the episode to be handled", timeout: .seconds(90)) { try await handled(harness, episode.episodeId) != nil }
                #expect(try await handled(harness, episode.episodeId) == "not_needed")
                #expect(try await harness.postgres.query("SELECT count(*) FROM meetings WHERE type = 'emergency'").first?.decode(0, as: Int.self) == 0)
            }
        }
    }
}
