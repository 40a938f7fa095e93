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
    let postgres: PostgresClient
    let authentication: OperatorAuthentication
    let allowHTTPWebhooks: Bool
    let rotationOverlap: Duration

    public init(directory: StakeholderDirectory, postgres: PostgresClient, operatorToken: String?, allowHTTPWebhooks: Bool, rotationOverlap: Duration) {
        self.directory = directory
        self.postgres = postgres
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
            let (stakeholder, secrets) = try await directory.add(input)
            // The response is the stakeholder with each webhook's secret, shown this once.
            struct Created: Encodable {
                struct Channel: Encodable {
                    var id: String
                    var type: ChannelType
                    var url: String?
                    var address: String?
                    var number: String?
                    var secret: String?
                }
                var id: String
                var name: String
                var role: StakeholderRole
                var organization: String?
                var timezone: String
                var channels: [Channel]
            }
            var channels: [Created.Channel] = []
            for channel in stakeholder.channels {
                let address = channel.address
                channels.append(Created.Channel(
                    id: channel.id.uuidString.lowercased(), type: channel.type,
                    url: channel.type == .webhook ? address : nil, address: channel.type == .email ? address : nil,
                    number: channel.type == .sms ? address : nil, secret: secrets[channel.id]))
            }
            let created = Created(
                id: stakeholder.id.uuidString.lowercased(), name: stakeholder.name, role: stakeholder.role,
                organization: stakeholder.organization, timezone: stakeholder.timezone, channels: channels)
            return try Self.json(created, status: .created)
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
        var query: PostgresQuery = """
            SELECT json_build_object('id', id, 'incident_id', incident_id, 'revision', revision, 'reason', reason, 'stakeholder_id', stakeholder_id,
                   'role', role, 'channel_id', channel_id, 'channel', channel_type, 'state', state, 'attempts', attempts,
                   'next_attempt_at', next_attempt_at, 'last_status', last_status, 'last_error', last_error, 'created_at', created_at,
                   'finished_at', finished_at)::text
            FROM deliveries WHERE true
            """
        if let text = parameters.get("incident_id") {
            guard let id = UUID(uuidString: String(text)) else { throw ProblemDetails(status: .badRequest, detail: "incident_id must be a UUID.") }
            query.append(" AND incident_id = \(id)")
        }
        if let text = parameters.get("stakeholder_id") {
            guard let id = UUID(uuidString: String(text)) else { throw ProblemDetails(status: .badRequest, detail: "stakeholder_id must be a UUID.") }
            query.append(" AND stakeholder_id = \(id)")
        }
        if let text = parameters.get("state") {
            guard let state = DeliveryState(rawValue: String(text)) else {
                throw ProblemDetails(status: .badRequest, detail: "state must be one of \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            query.append(" AND state = \(state.rawValue)")
        }
        var limit = 100
        if let text = parameters.get("limit") {
            guard let value = Int(String(text)), (1...1000).contains(value) else { throw ProblemDetails(status: .badRequest, detail: "limit must be 1 to 1000.") }
            limit = value
        }
        query.append(" ORDER BY created_at DESC, id LIMIT \(limit)")
        let items = try await postgres.query(query).map { try $0.decode(0, as: String.self) }
        let body = "{\"deliveries\":[" + items.joined(separator: ",") + "]}"
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
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
