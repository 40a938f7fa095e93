import Foundation

/// `coalition.feedback.v1` on `feedback.responses` (key = the area): one perceived-safety
/// answer from a survey tool, as docs/asyncapi.yaml documents it. The metrics aggregator
/// turns them into the `perceived-safety` metric (mean score and answers per area and role).
public struct FeedbackResponse: Codable, Sendable, Equatable {
    /// The survey tool's id for the answer, when it has one (else the CloudEvent id is used).
    public var responseId: String?
    public var area: String
    /// 1 (very unsafe) to 5 (very safe).
    public var score: Int
    public var respondedAt: Date
    public var role: StakeholderRole?

    public static let scores = 1...5

    public init(responseId: String? = nil, area: String, score: Int, respondedAt: Date, role: StakeholderRole? = nil) {
        self.responseId = responseId
        self.area = area
        self.score = score
        self.respondedAt = respondedAt
        self.role = role
    }
}
