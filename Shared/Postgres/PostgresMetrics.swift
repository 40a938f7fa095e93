import Metrics

/// The metrics one client reports, created once (metric factories look labels up on creation).
final class PostgresMetrics: Sendable {
    let queries: Counter
    let queryDuration: Metrics.Timer
    let connectionsOpened: Counter
    let connectionFailures: Counter
    let leasedConnections: Gauge
    let idleConnections: Gauge

    init() {
        queries = Counter(label: "postgres_queries_total")
        queryDuration = Metrics.Timer(label: "postgres_query_duration_seconds")
        connectionsOpened = Counter(label: "postgres_connections_opened_total")
        connectionFailures = Counter(label: "postgres_connection_failures_total")
        leasedConnections = Gauge(label: "postgres_pool_connections", dimensions: [("state", "leased")])
        idleConnections = Gauge(label: "postgres_pool_connections", dimensions: [("state", "idle")])
    }

    func recordError(_ error: PostgresError) {
        Counter(label: "postgres_errors_total", dimensions: [("code", "\(error.code)")]).increment()
    }
}
