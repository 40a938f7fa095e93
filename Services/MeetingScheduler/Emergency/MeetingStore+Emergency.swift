import Contracts
import Foundation
import Postgres

extension MeetingStore {
    /// Namespace of emergency meeting ids and request ids: UUIDv5 of the episode id.
    static let emergencyNamespace = UUID(uuidString: "b7e1c0a2-3d4f-4e5a-8b6c-7d8e9f0a1b2c")!

    /// Answers a hotspot episode start at most once: the episode row, the meeting and its
    /// events commit together, so a redelivered episode finds the row and changes nothing.
    public func handle(_ episode: HotspotEpisode, policy: EmergencyPolicy) async throws -> EmergencyOutcome {
        try await planner.withBookingRetry { connection in
            let seen = try await connection.query("SELECT 1 FROM hotspot_episodes_handled WHERE episode_id = \(episode.episodeId) FOR UPDATE")
            guard seen.isEmpty else { return .alreadyHandled }
            let now = clock()
            func record(_ outcome: String, meeting: UUID? = nil, reason: String? = nil) async throws {
                try await connection.execute("""
                    INSERT INTO hotspot_episodes_handled (episode_id, area, outcome, meeting_id, reason, handled_at)
                    VALUES (\(episode.episodeId), \(episode.area), \(outcome), \(meeting), \(reason), \(now))
                    """)
            }
            let soon = try await connection.query("""
                SELECT 1 FROM meetings m JOIN meeting_occurrences o ON o.meeting_id = m.id
                WHERE m.area = \(episode.area) AND m.status = 'scheduled' AND o.status = 'scheduled'
                  AND o.occurrence_start >= \(now) AND o.occurrence_start < \(now.addingTimeInterval(policy.quietPeriod.seconds))
                LIMIT 1
                """)
            guard soon.isEmpty else {
                try await record("not_needed", reason: "the area has a meeting within \(Int(policy.quietPeriod.seconds / 86_400)) days")
                return .notNeeded
            }
            let quarter = Double(SchedulingProblem.granularity)
            let earliest = Date(timeIntervalSince1970: ((now.timeIntervalSince1970 + policy.notice.seconds) / quarter).rounded(.up) * quarter)
            let key = Array("hotspot/\(episode.episodeId.uuidString.lowercased())".utf8)
            let request = MeetingRequest(
                requestID: UUID(version5: Self.emergencyNamespace, name: key + Array("/request".utf8)), type: .emergency,
                title: "Emergency coalition meeting: \(episode.area)", area: episode.area, durationMinutes: Int(policy.duration.seconds / 60),
                window: earliest..<now.addingTimeInterval(policy.within.seconds), timeZone: policy.timeZone,
                invitees: StakeholderRole.allCases.map { .init(selector: .subscribers(role: $0, area: episode.area), required: true) },
                representation: [.lawEnforcement: 1, .communityOrg: 1, .localGovernment: 1], hotspotEpisodeID: episode.episodeId)
            do {
                let plan = try await planner.plan(request, in: connection)
                let meeting = UUID(version5: Self.emergencyNamespace, name: key)
                _ = try await insert(plan, for: request, meeting: meeting, in: connection)
                try await record("scheduled", meeting: meeting)
                return .scheduled(meeting)
            } catch let error as Unschedulable {
                try await record("unschedulable", reason: error.reason)
                return .unschedulable(error.reason)
            }
        }
    }
}

extension Duration {
    var seconds: TimeInterval { TimeInterval(components.seconds) + TimeInterval(components.attoseconds) / 1e18 }
}
