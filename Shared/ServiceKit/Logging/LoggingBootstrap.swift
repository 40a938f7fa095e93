import Logging
import Metrics
import Prometheus

/// Process-wide logging and metrics set-up, done once at start.
public enum ObservabilityBootstrap {
    /// The registry `/metrics` exposes.
    public static let registry = PrometheusCollectorRegistry()

    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .json: JSONLogHandler(label: label)
                case .text: StreamLogHandler.standardError(label: label)
                }
            handler.logLevel = level
            return handler
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
