import Hummingbird

/// Administrative endpoints of every service: `Authorization: Bearer <COALITION_OPERATOR_TOKEN>`.
/// With no token configured nothing is accepted (fail closed).
public struct OperatorAuthentication: Sendable {
    let token: String?

    public init(token: String?) { self.token = token }

    public func check(_ request: Request) throws {
        guard let token, !token.isEmpty else {
            throw ProblemDetails(status: .unauthorized, detail: "No operator token is configured (COALITION_OPERATOR_TOKEN); administration is closed.",
                                 headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw ProblemDetails(status: .unauthorized, detail: "Send the operator token as `Authorization: Bearer <token>`.", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard Self.constantTimeEqual(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), token) else {
            throw ProblemDetails(status: .unauthorized, detail: "Wrong operator token.", headers: [.wwwAuthenticate: "Bearer"])
        }
    }

    /// Compares without stopping at the first difference, so timing does not reveal a prefix.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
