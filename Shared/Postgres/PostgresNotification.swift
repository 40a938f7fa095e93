/// A NOTIFY received on a LISTEN channel.
public struct PostgresNotification: Hashable, Sendable {
    public let channel: String
    public let payload: String
    /// The process ID of the server backend that sent it.
    public let backendPID: Int

    public init(channel: String, payload: String, backendPID: Int) {
        self.channel = channel
        self.payload = payload
        self.backendPID = backendPID
    }
}
