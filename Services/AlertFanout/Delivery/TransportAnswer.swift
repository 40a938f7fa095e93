/// What a channel transport (webhook, email, SMS) made of one attempt; the worker turns it
/// into the delivery's next state.
public enum TransportAnswer: Sendable, Equatable {
    case delivered(status: Int)
    /// The endpoint no longer exists (webhook 410): fail and disable the channel.
    case gone(status: Int)
    /// A failure worth retrying; `retryAfter` (seconds) when the receiver said when.
    case failed(status: Int?, retryAfter: Double?, error: String)
    /// Refused for good (an SMTP 5xx, an SMS gateway rejecting the number): fail without retrying.
    case rejected(status: Int?, error: String)
    /// Not attempted: the target is not allowed (private address).
    case refused(String)
}
