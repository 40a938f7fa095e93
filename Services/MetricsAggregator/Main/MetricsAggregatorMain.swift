import MetricsAggregator
import ServiceKit

/// `metrics-aggregator`: turns events into windowed metrics, trends and hotspots.
///
/// Services, in start order: the input consumer (starting where the stored state ends), the
/// intake applying its flushes, the publisher sending the update log to the metric topics;
/// the query API and the live stream are on the runtime's router.
@main
enum MetricsAggregatorMain {
    static func main() async {
        await ServiceRuntime.main(MetricsAggregatorConfiguration.self) { configuration, context in
            let services = try MetricsAggregatorServices(
                configuration: configuration.common, grace: configuration.grace, k: configuration.k, flushSize: configuration.flushSize,
                flushInterval: configuration.flushInterval, prefetchKilobytes: configuration.prefetchKilobytes, context: context)
            return services.all
        }
    }
}
