import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The scheduler's HTTP API (docs/openapi/meeting-scheduler.yaml). Everything that changes
/// state needs the operator token; calendar feeds are read with an unguessable id or token.
public struct SchedulerRoutes: Sendable {
    static let maximumBodySize = 1024 * 1024

    let store: MeetingStore
    let directory: SchedulingDirectory
    let authentication: OperatorAuthentication

    public init(store: MeetingStore, directory: SchedulingDirectory, operatorToken: String?) {
        self.store = store
        self.directory = directory
        self.authentication = OperatorAuthentication(token: operatorToken)
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/meetings/requests") { request, _ in
            try authentication.check(request)
            let meetingRequest: MeetingRequest
            switch MeetingRequest.parse(try await Self.object(request)) {
            case .failure(let errors): throw ProblemDetails(status: .unprocessableContent, title: "Invalid meeting request", errors: errors.errors)
            case .success(let parsed): meetingRequest = parsed
            }
            let (record, created) = try await Self.answering { try await store.schedule(meetingRequest) }
            return try Self.json(record, status: created ? .created : .ok)
        }
        router.get("/v1/meetings/{id}") { request, context in
            let text = context.parameters.get("id") ?? ""
            if text.hasSuffix(".ics") {
                // The calendar of one meeting: its id (random) is the capability, as calendar apps send no token.
                guard let id = UUID(uuidString: String(text.dropLast(4))), let record = try await store.load(id) else {
                    throw ProblemDetails(status: .notFound, detail: "No such meeting.")
                }
                return Self.calendar(ICSWriter.calendar([record.calendarEvent], method: .publish))
            }
            try authentication.check(request)
            guard let id = UUID(uuidString: text), let record = try await store.load(id) else { throw ProblemDetails(status: .notFound, detail: "No such meeting.") }
            return try Self.json(record)
        }
        router.post("/v1/meetings/{id}/cancel") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            let body = try await Self.object(request, optional: true) as? [String: Any] ?? [:]
            let occurrence = try Self.time(body["occurrence_start"], field: "occurrence_start")
            let record = try await Self.answering { try await store.cancel(id, occurrence: occurrence, reason: try Self.text(body["reason"], field: "reason")) }
            return try Self.json(record)
        }
        router.post("/v1/meetings/{id}/reschedule") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            let body = try await Self.object(request) as? [String: Any] ?? [:]
            let window = body["window"] as? [String: Any] ?? [:]
            guard let start = try Self.time(window["start"], field: "window.start"), let end = try Self.time(window["end"], field: "window.end"), start < end else {
                throw Self.invalid("window", "invalid_window", "window needs start and end (RFC 3339), start before end")
            }
            let record = try await Self.answering { try await store.reschedule(id, window: start..<end, reason: try Self.text(body["reason"], field: "reason")) }
            return try Self.json(record)
        }
        router.post("/v1/meetings/{id}/rsvp") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            let body = try await Self.object(request) as? [String: Any] ?? [:]
            let stakeholder = try Self.stakeholder(body)
            guard let text = body["response"] as? String, let response = MeetingEvent.Response(rawValue: text) else {
                throw Self.invalid("response", "invalid_response", "response must be accepted, declined or tentative")
            }
            let occurrence = try Self.time(body["occurrence_start"], field: "occurrence_start")
            try await Self.answering { try await store.rsvp(id, stakeholder: stakeholder, response: response, occurrence: occurrence) }
            return Response(status: .noContent)
        }
        router.post("/v1/meetings/{id}/attendance") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            let body = try await Self.object(request) as? [String: Any] ?? [:]
            let stakeholder = try Self.stakeholder(body)
            let occurrence = try Self.time(body["occurrence_start"], field: "occurrence_start")
            let attended = body["attended"] as? Bool ?? true
            let start = try await Self.answering { try await store.attendance(id, stakeholder: stakeholder, attended: attended, occurrence: occurrence) }
            struct Recorded: Encodable { var occurrenceStart: Date; var attended: Bool }
            return try Self.json(Recorded(occurrenceStart: start, attended: attended), status: .created)
        }
        router.post("/v1/venues") { request, _ in
            try authentication.check(request)
            let venue = try VenueInput.parse(try await Self.object(request))
            try await directory.addVenue(venue)
            return try Self.json(venue, status: .created)
        }
        router.get("/v1/venues") { request, _ in
            try authentication.check(request)
            struct List: Encodable { var venues: [SchedulingDirectory.Venue] }
            return try Self.json(List(venues: try await directory.venues()))
        }
        router.put("/v1/stakeholders/{id}/availability") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            let windows = try VenueInput.windows(try await Self.object(request))
            guard try await directory.setAvailability(id, windows: windows) else { throw ProblemDetails(status: .notFound, detail: "No such stakeholder.") }
            return Response(status: .noContent)
        }
        router.post("/v1/stakeholders/{id}/busy") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            let body = try await Self.object(request) as? [String: Any] ?? [:]
            guard let start = try Self.time(body["start"], field: "start"), let end = try Self.time(body["end"], field: "end"), start < end else {
                throw Self.invalid("start", "invalid_span", "start and end (RFC 3339) are required, start before end")
            }
            let block = UUID()
            guard try await directory.addBusy(id, id: block, during: start..<end, reason: try Self.text(body["reason"], field: "reason")) else {
                throw ProblemDetails(status: .notFound, detail: "No such stakeholder.")
            }
            struct Created: Encodable { @LowercaseUUID var id: UUID }
            return try Self.json(Created(id: block), status: .created)
        }
        router.post("/v1/stakeholders/{id}/calendar-token") { request, context in
            try authentication.check(request)
            let id = try Self.uuid(context)
            guard let token = try await store.makeFeedToken(for: id) else { throw ProblemDetails(status: .notFound, detail: "No such stakeholder.") }
            struct Created: Encodable { var token: String; var url: String }
            return try Self.json(Created(token: token, url: "/v1/calendars/\(token).ics"), status: .created)
        }
        router.get("/v1/calendars/{file}") { _, context in
            let file = context.parameters.get("file") ?? ""
            guard file.hasSuffix(".ics"), file.count < 200, let feed = try await store.feed(token: String(file.dropLast(4))) else {
                throw ProblemDetails(status: .notFound, detail: "No such calendar.")
            }
            return Self.calendar(feed)
        }
    }

    /// Maps the domain's refusals to problem details (422 with the reason a coordinator reads).
    @discardableResult
    static func answering<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as Unschedulable {
            throw ProblemDetails(status: .unprocessableContent, title: "No slot meets the request", detail: error.reason,
                                 errors: [.init(field: "", code: "unschedulable", message: error.reason)])
        } catch let error as UnknownInvitees {
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid meeting request", detail: "Some invitees are not stakeholders.", errors: error.errors)
        } catch let error as SchedulingContention {
            throw ProblemDetails(status: .conflict, detail: error.description, headers: [.retryAfter: "1"])
        } catch let error as MeetingChangeRefused {
            switch error.kind {
            case .notFound: throw ProblemDetails(status: .notFound, detail: "No such meeting.")
            case .conflict: throw ProblemDetails(status: .conflict, detail: error.description)
            case .invalid: throw ProblemDetails(status: .unprocessableContent, detail: error.description, errors: [.init(field: "", code: "refused", message: error.description)])
            }
        }
    }

    static func object(_ request: Request, optional: Bool = false) async throws -> Any {
        let body = try await request.body.collect(upTo: maximumBodySize)
        if optional && body.readableBytes == 0 { return [String: Any]() }
        guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) else {
            throw ProblemDetails(status: .unprocessableContent, title: "Invalid JSON", detail: "The body is not valid JSON.",
                                 errors: [.init(field: "", code: "invalid_json", message: "the body is not valid JSON")])
        }
        return json
    }

    static func uuid(_ context: BasicRequestContext) throws -> UUID {
        guard let text = context.parameters.get("id"), let id = UUID(uuidString: text) else {
            throw ProblemDetails(status: .notFound, detail: "No such resource: the id must be a UUID.")
        }
        return id
    }

    static func stakeholder(_ body: [String: Any]) throws -> UUID {
        guard let text = body["stakeholder_id"] as? String, let id = UUID(uuidString: text) else {
            throw invalid("stakeholder_id", "invalid_uuid", "stakeholder_id must be a UUID")
        }
        return id
    }

    static func time(_ value: Any?, field: String) throws -> Date? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String, let date = MeetingRequest.time(text) else {
            throw invalid(field, "invalid_time", "\(field) must be an RFC 3339 time with offset, years 1900 to 9999")
        }
        return date
    }

    /// Free text (a reason): at most 500 characters, no NUL (PostgreSQL text cannot hold it).
    static func text(_ value: Any?, field: String) throws -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let text = value as? String, text.count <= 500, !text.contains("\u{0}") else {
            throw invalid(field, "invalid_text", "\(field) must be text of at most 500 characters")
        }
        return text
    }

    static func invalid(_ field: String, _ code: String, _ message: String) -> ProblemDetails {
        ProblemDetails(status: .unprocessableContent, detail: message, errors: [.init(field: field, code: code, message: message)])
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try CoalitionJSON.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func calendar(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/calendar; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
