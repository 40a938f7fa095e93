import Crypto
import Foundation

/// Standard Webhooks signatures (standardwebhooks.com): HMAC-SHA256 over
/// `"{webhook-id}.{webhook-timestamp}.{body}"` with the key the `whsec_` secret encodes, sent
/// as `webhook-signature: v1,<base64>`; several secrets (a rotation) give several
/// space-separated signatures, any of which a receiver may accept.
public enum WebhookSignature {
    public static func sign(id: String, timestamp: Int, body: [UInt8], secrets: [String]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content += body
        return secrets.compactMap { secret -> String? in
            guard let key = WebhookSecret.key(of: secret) else { return nil }
            let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))
            return "v1," + Data(mac).base64EncodedString()
        }.joined(separator: " ")
    }
}
