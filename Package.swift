// swift-tools-version:6.0
import PackageDescription

// librdkafka >= 2.1 is built by `make setup` into .local/librdkafka (Debian 12 ships 2.0.2,
// which cannot talk to current brokers). Binaries carry an rpath to it, so nobody has to set
// LD_LIBRARY_PATH. Inside the container image the system librdkafka is used instead: these
// paths then simply do not exist and the compiler and linker skip them.
let localRdKafka = "\(Context.packageDirectory)/.local/librdkafka"
let nativeSearchPaths: [String] = [
    "-Xcc", "-I\(localRdKafka)/include",
    "-Xcc", "-I/usr/include/postgresql",
]
let nativeLinkPaths: LinkerSetting = .unsafeFlags([
    "-L\(localRdKafka)/lib",
    "-Xlinker", "-rpath", "-Xlinker", "\(localRdKafka)/lib",
])
let swiftSettings: [SwiftSetting] = [.unsafeFlags(nativeSearchPaths)]

let package = Package(
    name: "Coalition",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "incident-ingestion", targets: ["IncidentIngestionMain"]),
        .executable(name: "alert-fanout", targets: ["AlertFanoutMain"]),
        .executable(name: "meeting-scheduler", targets: ["MeetingSchedulerMain"]),
        .executable(name: "metrics-aggregator", targets: ["MetricsAggregatorMain"]),
        .executable(name: "coalition", targets: ["CoalitionCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Already in the graph through Hummingbird; the fan-out's webhook and SMS client.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.30.0"),
    ],
    targets: [
        // C libraries, reached only from the Kafka, Postgres and Mail wrappers.
        .systemLibrary(name: "CRdKafka", path: "Shared/CRdKafka"),
        .systemLibrary(name: "CLibPQ", path: "Shared/CLibPQ"),
        .systemLibrary(name: "CCurl", path: "Shared/CCurl"),

        // Shared libraries.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                "Contracts",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Kafka",
            swiftSettings: swiftSettings,
            linkerSettings: [nativeLinkPaths]
        ),
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/Postgres",
            swiftSettings: swiftSettings
        ),
        // Email: MIME composition plus SMTP (STARTTLS, AUTH) through libcurl.
        .target(
            name: "Mail",
            dependencies: ["CCurl"],
            path: "Shared/Mail",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Contracts",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/Contracts",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Migrations",
            path: "Migrations",
            resources: [.copy("SQL")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Kafka", "Postgres", "Contracts", "Migrations",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Shared/ServiceKit",
            swiftSettings: swiftSettings
        ),

        // Executables: one folder per service.
        // The ingestion service is a library (the CLI's importer and source commands run the
        // same validation, normalization and store code) plus a thin executable in Main/.
        .target(
            name: "IncidentIngestion",
            dependencies: ["ServiceKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Services/IncidentIngestion",
            exclude: ["Main"],
            resources: [.copy("Seeds")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "IncidentIngestionMain", dependencies: ["IncidentIngestion"],
            path: "Services/IncidentIngestion/Main", swiftSettings: swiftSettings),
        // The fan-out is a library too: the CLI manages stakeholders and subscriptions with the
        // same validation and directory code the HTTP API uses.
        .target(
            name: "AlertFanout",
            dependencies: [
                "ServiceKit", "Mail", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Services/AlertFanout",
            exclude: ["Main"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "AlertFanoutMain", dependencies: ["AlertFanout", "Mail"],
            path: "Services/AlertFanout/Main", swiftSettings: swiftSettings),
        // The scheduler is a library too: the CLI requests meetings and the benchmark solves
        // with the same code the HTTP API uses.
        .target(
            name: "MeetingScheduler",
            dependencies: ["ServiceKit", .product(name: "Crypto", package: "swift-crypto")],
            path: "Services/MeetingScheduler",
            exclude: ["Main"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "MeetingSchedulerMain", dependencies: ["MeetingScheduler"],
            path: "Services/MeetingScheduler/Main", swiftSettings: swiftSettings),
        // The aggregator is a library too: `coalition metrics rebuild` recomputes windows with
        // the same window and aggregation code the service runs.
        .target(
            name: "MetricsAggregator",
            dependencies: ["ServiceKit", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Services/MetricsAggregator",
            exclude: ["Main"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "MetricsAggregatorMain", dependencies: ["MetricsAggregator"],
            path: "Services/MetricsAggregator/Main", swiftSettings: swiftSettings),
        .executableTarget(
            name: "CoalitionCLI",
            dependencies: [
                "ServiceKit", "IncidentIngestion", "AlertFanout", "MeetingScheduler", "MetricsAggregator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/CoalitionCLI", swiftSettings: swiftSettings),

        // `make bench`: our Kafka and PostgreSQL layers against kcat and psql on the same data.
        .executableTarget(
            name: "PlatformBench",
            dependencies: ["ServiceKit", "AlertFanout", "MeetingScheduler", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Benchmarks/PlatformBench", swiftSettings: swiftSettings),

        // Tests. TestSupport reads the infrastructure `make test` started (.run/env).
        .target(
            name: "TestSupport",
            dependencies: ["ServiceKit"],
            path: "Tests/TestSupport", swiftSettings: swiftSettings),
        // A child process the tests can SIGKILL: a consumer-group member or an outbox relay.
        .executableTarget(
            name: "TestMember",
            dependencies: ["ServiceKit"],
            path: "Tests/TestMember", swiftSettings: swiftSettings),
        .testTarget(
            name: "KafkaTests", dependencies: ["TestSupport"],
            path: "Tests/KafkaTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "PostgresTests", dependencies: ["TestSupport"],
            path: "Tests/PostgresTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "ServiceKitTests", dependencies: ["TestSupport"],
            path: "Tests/ServiceKitTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "IncidentIngestionTests", dependencies: ["IncidentIngestion", "TestSupport"],
            path: "Tests/IncidentIngestionTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "AlertFanoutTests", dependencies: ["AlertFanout", "TestSupport"],
            path: "Tests/AlertFanoutTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "MeetingSchedulerTests", dependencies: ["MeetingScheduler", "TestSupport"],
            path: "Tests/MeetingSchedulerTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "MetricsAggregatorTests", dependencies: ["MetricsAggregator", "IncidentIngestion", "AlertFanout", "TestSupport"],
            path: "Tests/MetricsAggregatorTests", swiftSettings: swiftSettings),
        .testTarget(
            name: "PlatformTests", dependencies: ["TestSupport"],
            path: "Tests/PlatformTests", swiftSettings: swiftSettings),
    ]
)
