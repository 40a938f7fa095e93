import Hummingbird
import ServiceKit

/// Every fan-out endpoint is administrative: `Authorization: Bearer <COALITION_OPERATOR_TOKEN>`.
/// With no token configured nothing is accepted (fail closed).
struct OperatorAuthentication: Sendable {
    let token: String?

    func check(_ request: Request) throws {
        guard let token, !token.isEmpty else {
            throw ProblemDetails(status: .unauthorized, detail: "No operator token is configured (COALITION_OPERATOR_TOKEN); administration is closed.",
                                 headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw ProblemDetails(status: .unauthorized, detail: "Send the operator token as `Authorization: Bearer <token>`.", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) == token else {
            throw ProblemDetails(status: .unauthorized, detail: "Wrong operator token.", headers: [.wwwAuthenticate: "Bearer"])
        }
    }
}
