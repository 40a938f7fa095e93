import Contracts
import Crypto
import Foundation
import ServiceKit

/// A validated incident with what the store derives from it alone: its id and its content
/// hash. Computed before the batch's transaction starts, so the Kafka intake can prepare the
/// next batch while the database works on this one.
public struct PreparedIncident: Sendable {
    public var raw: RawIncident
    /// UUIDv5 of source and external id (`IncidentIdentity`).
    public var id: UUID
    /// SHA-256 (hex) of the raw incident in the canonical JSON dialect: equal content, equal hash.
    public var contentHash: String

    public init(_ raw: RawIncident) {
        self.raw = raw
        self.id = IncidentIdentity.id(source: raw.source, externalId: raw.externalId)
        self.contentHash = Self.contentHash(raw)
    }

    /// Identifies submitted content: the raw incident in the canonical JSON dialect (sorted
    /// keys), byte for byte what `CoalitionJSON.encoder` writes, so hashes stored by earlier
    /// versions still match.
    static func contentHash(_ raw: RawIncident) -> String {
        Outbox.hex(Array(SHA256.hash(data: raw.canonicalJSON)))
    }
}
