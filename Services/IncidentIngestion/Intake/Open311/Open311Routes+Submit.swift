import Contracts
import Foundation
import Hummingbird
import Metrics
import Postgres
import ServiceKit

extension Open311Routes {
    /// `POST /open311/v2/requests.json`. A refused submission is a 400 listing every reason and
    /// is kept on `incidents.rejected` (channel `open311`) without its key and contact fields;
    /// one that fails authentication is not kept.
    func submit(_ request: Request, context: BasicRequestContext) async throws -> Response {
        if let type = request.headers[.contentType],
            !type.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            throw Open311Error(.unsupportedMediaType, "send the request as application/x-www-form-urlencoded")
        }
        let body = try await request.body.collect(upTo: Self.maximumBodySize)
        let form = try Open311Form(decoding: Array(buffer: body))
        let query = try queryForm(request)
        let source = try await authenticate(key: form["api_key"] ?? query["api_key"])
        if let jurisdictionID = form["jurisdiction_id"] ?? query["jurisdiction_id"], jurisdictionID != source {
            _ = try await jurisdiction(jurisdictionID: jurisdictionID, key: nil)
            throw Open311Error(.forbidden, "api_key does not belong to jurisdiction \(jurisdictionID)")
        }
        if let rateLimiter, let wait = rateLimiter.take(1, for: source) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            throw Open311Error(
                .tooManyRequests,
                ["jurisdiction \(source) is over its rate limit of \(rateLimiter.limitDescription) requests; retry in \(seconds) s"],
                retryAfter: seconds)
        }

        let submission = Open311Submission(form: form)
        let externalId = UUID().uuidString.lowercased()
        var (object, errors) = submission.incidentObject(source: source, externalId: externalId, now: clock())
        if let code = form["service_code"], let category = IncidentCategory(rawValue: code),
            let conflict = try await relabelled(code, source: source), conflict != category {
            // The store maps a label through the source's table first: this code would be filed
            // under another category, which a GeoReport client would not expect.
            errors.append(.init(
                field: "category", code: "mapped_elsewhere",
                message: "\(code) is also one of this source's own labels and maps to \(conflict.rawValue); it cannot be used as a service_code"))
        }
        let validated = IncidentValidator.validate(object)
        if case .success(let incident) = validated, errors.isEmpty {
            let outcome = try await store.ingest([incident], channel: "open311")[0]
            count(outcome.status.rawValue)
            guard outcome.status != .rejected else {
                throw Open311Error(.badRequest, outcome.errors.map(Open311Submission.describe))
            }
            struct Receipt: Encodable {
                var serviceRequestId: String
                func encode(to encoder: any Encoder) throws {
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encode(serviceRequestId, forKey: .serviceRequestId)
                    try container.encode("", forKey: .serviceNotice)
                    try container.encodeNil(forKey: .accountId)
                }
                enum CodingKeys: String, CodingKey {
                    case serviceRequestId = "service_request_id"
                    case serviceNotice = "service_notice"
                    case accountId = "account_id"
                }
            }
            return try Open311Response.json([Receipt(serviceRequestId: externalId)], status: .created)
        }
        if case .failure(let failure) = validated { errors = failure.errors + errors }
        _ = try await store.ingest([], rejected: [
            RejectedSubmission(source: source, externalId: externalId, original: submission.keptBytes, errors: errors, channel: "open311"),
        ], channel: "open311")
        count(IntakeOutcome.Status.rejected.rawValue)
        throw Open311Error(.badRequest, errors.map(Open311Submission.describe))
    }

    /// The category the source's own mapping gives `label`, if it has an entry for it.
    private func relabelled(_ label: String, source: String) async throws -> IncidentCategory? {
        try await postgres.query("SELECT category FROM category_mappings WHERE source_id = \(source) AND label = \(label)")
            .first.flatMap { IncidentCategory(rawValue: try $0.decode(0, as: String.self)) }
    }

    private func count(_ outcome: String) {
        Counter(label: "coalition_ingestion_incidents_total", dimensions: [("channel", "open311"), ("outcome", outcome)]).increment()
    }
}
