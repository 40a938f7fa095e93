import Contracts
import Foundation

/// The `id` of a canonical incident: a name-based UUID (version 5, SHA-1; RFC 4122 §4.3,
/// RFC 9562 §5.5) of the source and the source's external id, so every revision of one
/// report, from any intake path and any instance, carries the same id without a lookup.
///
/// The contract, which consumers may recompute:
/// - namespace: `dbe917a7-f472-41a0-854d-39ba861a6872` (fixed for Coalition incidents);
/// - name: the UTF-8 bytes of `source`, then U+001F (INFORMATION SEPARATOR ONE, "unit
///   separator"), then the UTF-8 bytes of `external_id`, exactly as sent (no trimming, no
///   Unicode normalisation: the pair is compared byte for byte everywhere else too).
///
/// The join is unambiguous because validation refuses control characters in `source`, so
/// the first U+001F always ends it. In Python: `uuid.uuid5(NAMESPACE, f"{source}\x1f{external_id}")`.
enum IncidentIdentity {
    static let namespace = UUID(uuidString: "dbe917a7-f472-41a0-854d-39ba861a6872")!

    static let separator: UInt8 = 0x1F

    static func id(source: String, externalId: String) -> UUID {
        var name = [UInt8]()
        name.reserveCapacity(source.utf8.count + 1 + externalId.utf8.count)
        name.append(contentsOf: source.utf8)
        name.append(separator)
        name.append(contentsOf: externalId.utf8)
        return uuidV5(namespace: namespace, name: name)
    }

    static func uuidV5(namespace: UUID, name: some Sequence<UInt8>) -> UUID {
        UUID(version5: namespace, name: Array(name))
    }
}
