import Crypto
import Foundation

extension UUID {
    /// A name-based UUID (RFC 4122 §4.3, RFC 9562 §5.5): SHA-1 of the namespace's 16 bytes
    /// followed by the name; the first 16 bytes of the digest with the version (5) in the high
    /// nibble of byte 6 and the variant (10xx) in the top bits of byte 8. Python's
    /// `uuid.uuid5(namespace, name)` computes the same value.
    public init(version5 namespace: UUID, name: [UInt8]) {
        var hasher = Insecure.SHA1()
        withUnsafeBytes(of: namespace.uuid) { hasher.update(bufferPointer: $0) }
        hasher.update(data: name)
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        self.init(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}
