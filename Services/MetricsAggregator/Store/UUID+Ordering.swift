import Foundation

extension UUID {
    /// PostgreSQL's order of uuids (bytes, most significant first), without formatting the
    /// UUID as text (Foundation formats through `sprintf`, which dominated sorting batches).
    func precedes(_ other: UUID) -> Bool {
        let (a, b) = (uuid, other.uuid)
        let left = (UInt64(a.0) << 56 | UInt64(a.1) << 48 | UInt64(a.2) << 40 | UInt64(a.3) << 32 | UInt64(a.4) << 24 | UInt64(a.5) << 16 | UInt64(a.6) << 8 | UInt64(a.7),
                    UInt64(a.8) << 56 | UInt64(a.9) << 48 | UInt64(a.10) << 40 | UInt64(a.11) << 32 | UInt64(a.12) << 24 | UInt64(a.13) << 16 | UInt64(a.14) << 8 | UInt64(a.15))
        let right = (UInt64(b.0) << 56 | UInt64(b.1) << 48 | UInt64(b.2) << 40 | UInt64(b.3) << 32 | UInt64(b.4) << 24 | UInt64(b.5) << 16 | UInt64(b.6) << 8 | UInt64(b.7),
                     UInt64(b.8) << 56 | UInt64(b.9) << 48 | UInt64(b.10) << 40 | UInt64(b.11) << 32 | UInt64(b.12) << 24 | UInt64(b.13) << 16 | UInt64(b.14) << 8 | UInt64(b.15))
        return left < right
    }
}
