// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "bazar",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bazar-front", targets: ["bazar-front"]),
        .executable(name: "bazar-catalog", targets: ["bazar-catalog"]),
        .executable(name: "bazar-order", targets: ["bazar-order"]),
        .executable(name: "bazar", targets: ["bazar"]),
        .executable(name: "bazar-lab", targets: ["bazar-lab"]),
    ],
    dependencies: [
        // No default traits: `FullFoundation` and `ConfigurationSupport` link all of Foundation (and
        // its 34 MB of ICU data) into the front end, which needs neither.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the default traits add gRPC, minutes of build for an exporter Bazar
        // does not offer.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The front end's own exporter reads and writes W3C trace context with swift-otel's library.
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
    ],
    targets: [
        // The bookstore's vocabulary: books, orders, bodies, errors, replica names.
        .target(name: "BazarModels", path: "Shared/Models"),
        // Plumbing every service shares: configuration, HTTP client, errors, health, metrics, balancing.
        .target(
            name: "BazarService",
            dependencies: [
                "BazarModels",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Shared/Service"
        ),
        // What a replicated store needs (catalog and order, not the front end): its database,
        // the replication log, leader election, catch-up and forwarding to the leader.
        .target(
            name: "BazarReplication",
            dependencies: [
                "BazarService",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            path: "Shared/Replication"
        ),
        .target(
            name: "FrontService",
            dependencies: [
                "BazarService", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            path: "Services/Front/App",
            plugins: ["EmbedOpenAPI"]),
        // docs/openapi.yaml, built into the front end (GET /openapi.yaml) by a build-time tool.
        .executableTarget(name: "embed-text", path: "Tools/EmbedText"),
        .plugin(name: "EmbedOpenAPI", capability: .buildTool(), dependencies: ["embed-text"], path: "Plugins/EmbedOpenAPI"),
        .target(name: "CatalogService", dependencies: ["BazarReplication"], path: "Services/Catalog/App"),
        .target(name: "OrderService", dependencies: ["BazarReplication"], path: "Services/Order/App"),
        .executableTarget(name: "bazar-front", dependencies: ["FrontService"], path: "Services/Front/Main"),
        .executableTarget(name: "bazar-catalog", dependencies: ["CatalogService"], path: "Services/Catalog/Main"),
        .executableTarget(name: "bazar-order", dependencies: ["OrderService"], path: "Services/Order/Main"),
        // Starts and stops a local cluster of the five processes; used by `bazar up` and the system tests.
        .target(name: "BazarCluster", dependencies: ["BazarReplication"], path: "Tools/Cluster"),
        // The load generator (closed-loop clients, latency in an HdrHistogram) of `bazar load` and the benchmarks.
        .target(
            name: "BazarLoad",
            dependencies: ["BazarService", .product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Tools/Load"),
        // `bazar up` (a local cluster) and `bazar load` (load on a running front end).
        .executableTarget(name: "bazar", dependencies: ["BazarCluster", "BazarLoad"], path: "Tools/Bazar"),
        // `bazar-lab bench`: benchmarks that start their own Bazars behind latency proxies (test support).
        .executableTarget(name: "bazar-lab", dependencies: ["BazarCluster", "BazarLoad", "BazarTestSupport"], path: "Tests/Lab"),
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "FrontService", "CatalogService", "OrderService", "BazarCluster", "BazarHarness", "BazarTestSupport", "BazarLoad",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Tests/UnitTests"
        ),
        // The deterministic simulation of the replication rules: optimized even in a debug build
        // (10,000 schedules take a minute or so unoptimized).
        .testTarget(name: "SimulationTests", dependencies: ["BazarReplication"], path: "Tests/Simulation",
                    swiftSettings: [.unsafeFlags(["-O"])]),
        // What only tests use (a throwaway PostgreSQL server, a network of namespaces); no shipped
        // target links it.
        .target(name: "BazarTestSupport", dependencies: ["BazarCluster"], path: "Tests/Support"),
        // Fault injection: concurrent clients, faults on real processes and networks, checks of G1-G8.
        .target(name: "BazarHarness", dependencies: ["BazarCluster", "BazarTestSupport", "BazarLoad"], path: "Tests/Harness"),
        .testTarget(name: "SystemTests", dependencies: ["BazarCluster", "BazarHarness", "BazarTestSupport", "FrontService"], path: "Tests/SystemTests"),
    ]
)
