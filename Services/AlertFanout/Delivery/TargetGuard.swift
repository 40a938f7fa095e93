import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Refuses webhook targets that resolve to loopback, private, link-local (cloud metadata
/// lives at 169.254.169.254), shared-address, unspecified or multicast addresses, unless the
/// operator allows that network (`COALITION_FANOUT_ALLOWED_NETWORKS`, CIDR list). A receiver
/// URL is data an outsider may supply; without this the fan-out would call into the
/// deployment's own network for them.
///
/// The check runs on the addresses the host resolves to just before sending. The HTTP client
/// resolves again when it connects, so a DNS answer that changes in between (rebinding) is not
/// caught here; redirects are not followed at all.
public struct TargetGuard: Sendable {
    public struct Network: Sendable, Equatable {
        var address: [UInt8]
        var prefix: Int

        /// `10.0.0.0/8`, `127.0.0.1` (a single host), `fd00::/8`.
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard let address = TargetGuard.parse(String(parts[0])) else { return nil }
            let bits = address.count * 8
            let prefix = parts.count == 2 ? Int(parts[1]) : bits
            guard let prefix, (0...bits).contains(prefix) else { return nil }
            self.address = address
            self.prefix = prefix
        }

        func contains(_ candidate: [UInt8]) -> Bool {
            guard candidate.count == address.count else { return false }
            var remaining = prefix
            for (a, b) in zip(address, candidate) where remaining > 0 {
                let take = min(8, remaining)
                let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
                if a & mask != b & mask { return false }
                remaining -= take
            }
            return true
        }
    }

    static let blocked: [Network] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap(Network.init)

    public let allowed: [Network]

    public init(allowed: [Network] = []) {
        self.allowed = allowed
    }

    public enum Verdict: Sendable, Equatable {
        case allowed
        case refused(String)
        /// The name did not resolve (perhaps for now): worth another try later.
        case unresolved(String)
    }

    /// Whether every address `host` resolves to may be called.
    public func check(host: String) async -> Verdict {
        let addresses = await Self.resolve(host)
        guard !addresses.isEmpty else { return .unresolved("\(host) does not resolve") }
        for address in addresses {
            if case .refused(let why) = check(address: address) { return .refused("\(host) resolves to \(why)") }
        }
        return .allowed
    }

    func check(address raw: [UInt8]) -> Verdict {
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address.
        let address = raw.count == 16 && raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xFF && raw[11] == 0xFF ? Array(raw[12...]) : raw
        guard Self.blocked.contains(where: { $0.contains(address) }) else { return .allowed }
        if allowed.contains(where: { $0.contains(address) }) { return .allowed }
        return .refused("\(Self.format(address)), a loopback, private, link-local or reserved address the operator has not allowed")
    }

    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func format(_ address: [UInt8]) -> String {
        address.count == 4 ? address.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    /// getaddrinfo blocks, so it runs on a dispatch thread, never on the cooperative pool.
    static func resolve(_ host: String) async -> [[UInt8]] {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let literal = parse(name) { return [literal] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [[UInt8]] = []
                var cursor: UnsafeMutablePointer<addrinfo>? = first
                while let entry = cursor {
                    if let socketAddress = entry.pointee.ai_addr {
                        if entry.pointee.ai_family == AF_INET {
                            var v4 = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                            addresses.append(withUnsafeBytes(of: &v4) { Array($0) })
                        } else if entry.pointee.ai_family == AF_INET6 {
                            var v6 = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                            addresses.append(withUnsafeBytes(of: &v6) { Array($0) })
                        }
                    }
                    cursor = entry.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }
}
