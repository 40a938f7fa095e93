/// CloudEvents `type` values (SPEC §3).
public enum EventType {
    public static let incident = "coalition.incident.v1"
    public static let incidentRejected = "coalition.incident.rejected.v1"
    public static let alertRequested = "coalition.alert.requested.v1"
    public static let alertDelivery = "coalition.alert.delivery.v1"
    /// On `alerts.delivered`: the fan-out stopped sending to an endpoint (410, or sustained failure).
    public static let alertEndpointDisabled = "coalition.alert.endpoint-disabled.v1"
    public static let feedback = "coalition.feedback.v1"
    public static let metric = "coalition.metric.v1"
    public static let hotspot = "coalition.hotspot.v1"
    public static func meeting(_ event: String) -> String { "coalition.meeting.\(event).v1" }
}
