import Foundation

/// `coalition.alert.requested.v1` on `alerts.requested`: another service (the scheduler's
/// meeting invitations, an operator's notice) asks the fan-out to tell stakeholders something
/// through the same delivery machinery as incident alerts.
public struct AlertRequest: Codable, Sendable, Equatable {
    public struct Recipient: Codable, Sendable, Equatable {
        @LowercaseUUID public var stakeholderId: UUID
        /// Only these of the stakeholder's channels (all when absent); lower-case UUIDs.
        public var channelIds: [String]?

        public init(stakeholderId: UUID, channelIds: [String]? = nil) {
            self.stakeholderId = stakeholderId
            self.channelIds = channelIds
        }
    }

    public struct Attachment: Codable, Sendable, Equatable {
        public var filename: String
        /// Full Content-Type, e.g. `text/calendar; method=REQUEST`.
        public var contentType: String
        public var contentBase64: String

        public init(filename: String, contentType: String, contentBase64: String) {
            self.filename = filename
            self.contentType = contentType
            self.contentBase64 = contentBase64
        }
    }

    @LowercaseUUID public var requestId: UUID
    /// Requests with the same key are delivered once per recipient channel (default: the request id).
    public var idempotencyKey: String?
    /// `meeting_invitation`, `meeting_update`, `meeting_cancellation`, `notice`, …
    public var kind: String
    public var requestedBy: String?
    public var recipients: [Recipient]
    public var subject: String
    public var body: String
    public var severity: Int?
    public var area: String?
    /// Lower-case UUIDs, when the request is about an incident or a meeting.
    public var incidentId: String?
    public var meetingId: String?
    public var attachments: [Attachment]?
    public var requestedAt: Date
    public var expiresAt: Date?

    public init(
        requestId: UUID, idempotencyKey: String? = nil, kind: String, requestedBy: String? = nil, recipients: [Recipient], subject: String,
        body: String, severity: Int? = nil, area: String? = nil, incidentId: String? = nil, meetingId: String? = nil,
        attachments: [Attachment]? = nil, requestedAt: Date = Date(), expiresAt: Date? = nil
    ) {
        self.requestId = requestId
        self.idempotencyKey = idempotencyKey
        self.kind = kind
        self.requestedBy = requestedBy
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.severity = severity
        self.area = area
        self.incidentId = incidentId
        self.meetingId = meetingId
        self.attachments = attachments
        self.requestedAt = requestedAt
        self.expiresAt = expiresAt
    }
}
