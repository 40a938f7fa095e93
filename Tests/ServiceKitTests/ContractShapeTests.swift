import Contracts
import Foundation
import Testing

@Suite("Contract shapes")
struct ContractShapeTests {
    /// The AsyncAPI example of `coalition.hotspot.v1`, byte for byte as the file shows it.
    static let asyncAPIExample = """
        {"episode_id":"1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d","cell":"dr5rqc","area":"brooklyn-05","phase":"start",\
        "count_7d":14,"baseline_28d":3.25,"p_value":0.0004,"started_at":"2025-03-14T06:00:00Z","ended_at":null}
        """

    @Test("a hotspot episode reads the documented keys (count_7d, baseline_28d) and writes them back unchanged")
    func hotspotEpisodeKeys() throws {
        let episode = try CoalitionJSON.decoder.decode(HotspotEpisode.self, from: Data(Self.asyncAPIExample.utf8))
        #expect(episode.count7d == 14)
        #expect(episode.baseline28d == 3.25)
        #expect(episode.phase == .start)
        #expect(episode.endedAt == nil)
        let written = try #require(
            try JSONSerialization.jsonObject(with: CoalitionJSON.encoder.encode(episode)) as? [String: Any])
        #expect(Set(written.keys) == ["episode_id", "cell", "area", "phase", "count_7d", "baseline_28d", "p_value", "started_at", "ended_at"])
        #expect(written["episode_id"] as? String == "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
        #expect(written["ended_at"] is NSNull)
        #expect(try CoalitionJSON.decoder.decode(HotspotEpisode.self, from: CoalitionJSON.encoder.encode(episode)) == episode)
    }
}
