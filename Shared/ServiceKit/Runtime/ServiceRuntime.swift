import Foundation
import Hummingbird
import Kafka
import Logging
import Migrations
import Postgres
import ServiceLifecycle

/// What a service's business code gets from the runtime.
public struct RuntimeContext {
    public let configuration: CommonConfiguration
    public let logger: Logger
    public let postgres: PostgresClient
    public let producer: KafkaProducer
    /// Add routes here; `/healthz`, `/readyz` and `/metrics` are already on it.
    public let router: Router<BasicRequestContext>
}

/// The start-up sequence every executable shares: configuration → logging and metrics →
/// PostgreSQL (migrated) → Kafka → one `ServiceGroup` (database, producer, outbox relay, the
/// service's own work, then HTTP) with graceful shutdown on SIGTERM and SIGINT.
public enum ServiceRuntime {
    /// Runs the service and exits the process: 0 after a graceful shutdown, 2 for bad
    /// configuration, 1 when a dependency is unreachable or a service fails.
    public static func main<Configuration: ServiceConfiguration>(
        _ type: Configuration.Type,
        makeServices: @Sendable (Configuration, RuntimeContext) async throws -> [any Service]
    ) async -> Never {
        let configuration: Configuration
        do {
            configuration = try Configuration(environment: Environment())
        } catch {
            fail("configuration error: \(error)", status: 2)
        }
        let common = configuration.common
        ObservabilityBootstrap.bootstrap(format: common.logFormat, level: common.logLevel)
        let logger = {
            var logger = Logger(label: common.serviceName)
            logger[metadataKey: "service"] = "\(common.serviceName)"
            return logger
        }()

        let dependencies: (PostgresClient, KafkaProducer)
        do {
            dependencies = try await connect(common, logger: logger)
        } catch let error as StartupError {
            fail("\(common.serviceName): \(error)", status: 1)
        } catch {
            fail("\(common.serviceName): start-up failed: \(error)", status: 1)
        }
        let (postgres, producer) = dependencies

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ProblemDetailsMiddleware())
        OperationalRoutes.add(
            to: router,
            readiness: [
                ReadinessCheck(name: "database") { try await postgres.withConnection { _ = try await $0.query("SELECT 1") } },
                ReadinessCheck(name: "kafka") { _ = try await producer.brokers(timeout: .seconds(2)) },
            ],
            registry: ObservabilityBootstrap.registry)
        let context = RuntimeContext(configuration: common, logger: logger, postgres: postgres, producer: producer, router: router)

        do {
            let own = try await makeServices(configuration, context)
            let relay = OutboxRelay(
                postgres: postgres, producer: producer, topicPrefix: common.topicPrefix, logger: logger,
                pollInterval: common.outboxPollInterval)
            let http = Application(
                router: router,
                configuration: .init(address: .hostname(common.httpHost, port: common.httpPort), serverName: common.serviceName),
                onServerRunning: { channel in
                    logger.info("HTTP server listening", metadata: ["http.address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                },
                logger: logger)
            // Shutdown runs in reverse: HTTP stops first, the database closes last.
            let services: [any Service] = [PostgresService(client: postgres), producer, relay] + own + [http]
            var groupConfiguration = ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            groupConfiguration.maximumGracefulShutdownDuration = common.shutdownTimeout
            try await ServiceGroup(configuration: groupConfiguration).run()
            logger.info("shut down cleanly")
            exit(0)
        } catch {
            logger.critical("service failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    struct StartupError: Error, CustomStringConvertible {
        let variable: String
        let message: String
        var description: String { "\(variable): \(message)" }
    }

    /// Connects to PostgreSQL (and migrates) and Kafka within the start-up deadline; a failure
    /// names the variable to check.
    static func connect(_ common: CommonConfiguration, logger: Logger) async throws -> (PostgresClient, KafkaProducer) {
        let timeout = common.startupTimeout
        let postgres: PostgresClient
        do {
            postgres = try PostgresClient(
                configuration: .init(
                    connectionString: common.databaseURL, maxConnections: common.databasePoolSize,
                    connectTimeout: timeout, applicationName: common.serviceName),
                logger: logger)
            try await withDeadline(timeout) {
                try await postgres.withConnection { _ = try await $0.query("SELECT 1") }
            }
        } catch {
            throw StartupError(variable: "COALITION_DATABASE_URL", message: "PostgreSQL not reachable within \(timeout): \(error)")
        }
        do {
            let applied = try await Migrator.migrate(postgres, logger: logger)
            if !applied.isEmpty { logger.info("applied migrations", metadata: ["migrations": "\(applied)"]) }
        } catch {
            throw StartupError(variable: "COALITION_DATABASE_URL", message: "migrations failed: \(error)")
        }
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: common.kafka), logger: logger)
            _ = try await withDeadline(timeout) { try await producer.brokers(timeout: timeout) }
        } catch {
            throw StartupError(variable: "COALITION_KAFKA_BROKERS", message: "no Kafka broker answered at \(common.kafkaBrokers) within \(timeout): \(error)")
        }
        return (postgres, producer)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(status)
    }
}

/// Closes the pool's connections when the group shuts down (it is the last to stop).
struct PostgresService: Service {
    let client: PostgresClient
    func run() async throws {
        await withGracefulShutdownHandler {
            await client.run()
        } onGracefulShutdown: {
            client.shutdown()
        }
    }
}
