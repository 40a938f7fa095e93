import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The fan-out's HTTP API (docs/openapi/alert-fanout.yaml): stakeholders and their channels,
/// subscriptions, and the deliveries made for them. Operator token required throughout.
public struct FanoutRoutes: Sendable {
    static let maximumBodySize = 256 * 1024

    let directory: StakeholderDirectory
    let deliveries: DeliveryStore
    let authentication: OperatorAuthentication
    let allowHTTPWebhooks: Bool
    let rotationOverlap: Duration
    let capFeed: CAPFeed
    /// `COALITION_PUBLIC_URL`: how outsiders reach this service (links in the CAP feed).
    let publicURL: String?

    public init(
        directory: StakeholderDirectory, deliveries: DeliveryStore, capFeed: CAPFeed, operatorToken: String?, allowHTTPWebhooks: Bool,
        rotationOverlap: Duration, publicURL: String? = nil
    ) {
        self.capFeed = capFeed
        self.publicURL = publicURL
        self.directory = directory
        self.deliveries = deliveries
        self.authentication = OperatorAuthentication(token: operatorToken)
        self.allowHTTPWebhooks = allowHTTPWebhooks
        self.rotationOverlap = rotationOverlap
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/stakeholders") { request, _ in try await createStakeholder(request) }
        router.get("/v1/stakeholders") { request, _ in
            try authentication.check(request)
            return try Self.json(StakeholderList(stakeholders: try await directory.list()))
        }
        router.get("/v1/stakeholders/{id}") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context, "id")
            guard let stakeholder = try await directory.get(id) else { throw Self.notFound("stakeholder", id) }
            return try Self.json(stakeholder)
        }
        router.delete("/v1/stakeholders/{id}") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context, "id")
            guard try await directory.remove(id) else { throw Self.notFound("stakeholder", id) }
            return Response(status: .noContent)
        }
        router.post("/v1/channels/{id}/rotate-secret") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context, "id")
            guard let secret = try await directory.rotateSecret(channel: id, overlap: rotationOverlap) else { throw Self.notFound("webhook channel", id) }
            struct Rotated: Encodable { var channelId: String; var secret: String; var previousValidForSeconds: Int64 }
            return try Self.json(Rotated(channelId: id.uuidString.lowercased(), secret: secret, previousValidForSeconds: rotationOverlap.components.seconds))
        }
        router.post("/v1/channels/{id}/enable") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context, "id")
            guard try await directory.enable(channel: id) else { throw Self.notFound("channel", id) }
            return Response(status: .noContent)
        }
        router.post("/v1/subscriptions") { request, _ in try await createSubscription(request) }
        router.get("/v1/subscriptions") { request, _ in
            try authentication.check(request)
            let stakeholder = try request.uri.queryParameters.get("stakeholder_id").map { text in
                guard let id = UUID(uuidString: String(text)) else {
                    throw ProblemDetails(status: .badRequest, detail: "stakeholder_id must be a UUID.")
                }
                return id
            }
            return try Self.json(SubscriptionList(subscriptions: try await directory.subscriptions(of: stakeholder)))
        }
        router.delete("/v1/subscriptions/{id}") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context, "id")
            guard try await directory.removeSubscription(id) else { throw Self.notFound("subscription", id) }
            return Response(status: .noContent)
        }
        router.get("/v1/deliveries") { request, _ in try await listDeliveries(request) }
        // The public CAP feed needs no credential: it carries only public, non-sensitive incidents.
        router.get("/v1/cap/alerts.xml") { request, _ in
            let base = publicURL ?? "http://\(request.head.authority ?? "localhost")"
            let body = try await capFeed.atom(baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base)
            return Response(status: .ok, headers: [.contentType: "application/atom+xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("/v1/cap/alerts/{file}") { _, context in
            let file = context.parameters.get("file") ?? ""
            guard file.hasSuffix(".xml"), !hasNUL(file), let document = try await capFeed.document(identifier: String(file.dropLast(4))) else {
                throw ProblemDetails(status: .notFound, detail: "No CAP message \(file).")
            }
            return Response(status: .ok, headers: [.contentType: "application/cap+xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: document)))
        }
    }

    struct StakeholderList: Encodable { var stakeholders: [Stakeholder] }
    struct SubscriptionList: Encodable { var subscriptions: [Subscription] }

    func createStakeholder(_ request: Request) async throws -> Response {
        try authentication.check(request)
        let body = try await Self.object(request)
        switch StakeholderInput.parse(body, allowHTTPWebhooks: allowHTTPWebhooks) {
        case .failure(let errors):
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid stakeholder", errors: errors.errors)
        case .success(let input):
            var (stakeholder, secrets) = try await directory.add(input)
            // The answer is the stakeholder with each webhook's secret, shown this once.
            for index in stakeholder.channels.indices {
                stakeholder.channels[index].secret = secrets[stakeholder.channels[index].id]
            }
            return try Self.json(stakeholder, status: .created)
        }
    }

    func createSubscription(_ request: Request) async throws -> Response {
        try authentication.check(request)
        let body = try await Self.object(request)
        switch SubscriptionInput.parse(body) {
        case .failure(let errors):
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid subscription", errors: errors.errors)
        case .success(let input):
            do {
                return try Self.json(try await directory.addSubscription(input), status: .created)
            } catch let refusal as StakeholderDirectory.Refusal {
                throw ProblemDetails(status: .unprocessableContent, title: "Invalid subscription", errors: refusal.errors)
            }
        }
    }

    /// `GET /v1/deliveries?incident_id=&stakeholder_id=&state=&limit=`: newest first.
    func listDeliveries(_ request: Request) async throws -> Response {
        try authentication.check(request)
        let parameters = request.uri.queryParameters
        func uuid(_ name: String) throws -> UUID? {
            guard let text = parameters.get(name) else { return nil }
            guard let id = UUID(uuidString: String(text)) else { throw ProblemDetails(status: .badRequest, detail: "\(name) must be a UUID.") }
            return id
        }
        var state: DeliveryState?
        if let text = parameters.get("state") {
            guard let parsed = DeliveryState(rawValue: String(text)) else {
                throw ProblemDetails(status: .badRequest, detail: "state must be one of \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            state = parsed
        }
        var limit = 100
        if let text = parameters.get("limit") {
            guard let value = Int(String(text)), (1...1000).contains(value) else { throw ProblemDetails(status: .badRequest, detail: "limit must be 1 to 1000.") }
            limit = value
        }
        let records = try await deliveries.list(incident: try uuid("incident_id"), stakeholder: try uuid("stakeholder_id"), state: state, limit: limit)
        struct Page: Encodable { var deliveries: [DeliveryRecord] }
        return try Self.json(Page(deliveries: records))
    }

    // MARK: - Helpers

    static func object(_ request: Request) async throws -> Any {
        let body = try await request.body.collect(upTo: maximumBodySize)
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) else {
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid JSON", detail: "The body is not valid JSON.",
                                 errors: [.init(field: "", code: "invalid_json", message: "the body is not valid JSON")])
        }
        return json
    }

    static func uuid(_ context: BasicRequestContext, _ name: String) throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw ProblemDetails(status: .notFound, detail: "No such resource: the id must be a UUID.")
        }
        return id
    }

    static func notFound(_ what: String, _ id: UUID) -> ProblemDetails {
        ProblemDetails(status: .notFound, detail: "No \(what) \(id.uuidString.lowercased()).")
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try CoalitionJSON.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
