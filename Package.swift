// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SluiceKafka", targets: ["SluiceKafka"]),
        .library(name: "Sluice", targets: ["Sluice"]),
        .library(name: "SluiceTesting", targets: ["SluiceTesting"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.0.0"),
        // Already a dependency of postgres-nio; named for the PostgreSQL sink's TLS settings.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Layer 1: the only target that sees C.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Layer 2: safe Swift over librdkafka. Only RDKafka/ imports CRdKafka.
        .target(
            name: "SluiceKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Layer 3: the streaming core. Knows nothing of C or Kafka.
        .target(
            name: "Sluice",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        // Layer 4: the Kafka direct stream (planned offset ranges).
        .target(
            name: "SluiceKafkaStream",
            dependencies: ["Sluice", "SluiceKafka", .product(name: "Logging", package: "swift-log")]
        ),
        // Layer 4: the SQLite exactly-once store (embedded default).
        .target(
            name: "SluiceSQLite",
            dependencies: ["Sluice", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Layer 4: the PostgreSQL exactly-once store.
        .target(
            name: "SluicePostgres",
            dependencies: ["Sluice", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "NIOSSL", package: "swift-nio-ssl"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Test support: a throwaway PostgreSQL server (initdb + pg_ctl as the postgres user).
        .target(name: "SluicePostgresTesting", dependencies: ["SluiceTesting"]),
        // Layer 4: the Kafka exactly-once store (transactional producer + changelog).
        .target(
            name: "SluiceKafkaSink",
            dependencies: ["Sluice", "SluiceKafka", .product(name: "Logging", package: "swift-log")]
        ),
        // Ready-made jobs the executable and the tests run (word count).
        .target(
            name: "SluiceJobs",
            dependencies: ["Sluice", "SluiceKafka", "SluiceKafkaStream", "SluiceSQLite", "SluiceKafkaSink", "SluicePostgres",
                           .product(name: "Logging", package: "swift-log")]
        ),
        // Deterministic synthetic load (words, access logs, user events).
        .target(name: "SluiceWorkloads"),
        // Test support: manual clock, batch-by-batch driver, mock-cluster helpers.
        .target(
            name: "SluiceTesting",
            dependencies: ["Sluice", "SluiceKafka", .product(name: "Logging", package: "swift-log")]
        ),
        // Layer 5: the thin executable.
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceKafka",
                "Sluice",
                "SluiceKafkaStream",
                "SluiceJobs",
                "SluiceSQLite",
                "SluiceWorkloads",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End-to-end benchmark harness (Benchmarks/): `make bench`.
        .executableTarget(
            name: "sluice-bench",
            dependencies: [
                "SluiceKafka",
                "Sluice",
                "SluiceKafkaStream",
                "SluiceSQLite",
                "SluiceKafkaSink",
                "SluicePostgres",
                "SluiceTesting",
                "SluiceWorkloads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/SluiceBench"
        ),
        .testTarget(name: "SluiceKafkaTests", dependencies: ["SluiceKafka", "SluiceTesting", "SluiceWorkloads"]),
        .testTarget(name: "SluiceTests", dependencies: ["Sluice", "SluiceTesting"]),
        .testTarget(name: "SluiceKafkaStreamTests", dependencies: ["SluiceKafkaStream", "SluiceTesting"]),
        .testTarget(name: "SluiceSQLiteTests", dependencies: ["SluiceSQLite", "SluiceTesting"]),
        .testTarget(name: "SluiceExactlyOnceTests", dependencies: ["SluiceJobs", "SluiceSQLite", "SluiceKafkaStream", "SluiceTesting", "SluiceWorkloads"]),
        .testTarget(name: "SluicePostgresTests", dependencies: ["SluicePostgres", "SluicePostgresTesting", "SluiceJobs", "SluiceKafkaStream", "SluiceTesting", "SluiceWorkloads",
                                                            .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "SluiceKafkaSinkTests", dependencies: ["SluiceKafkaSink", "SluiceKafkaStream", "SluiceTesting"]),
        .testTarget(name: "SluiceWorkloadsTests", dependencies: ["SluiceWorkloads"]),
        .testTarget(name: "SluiceJobsTests", dependencies: ["SluiceJobs", "SluiceKafka", "SluiceKafkaSink", "SluicePostgres"]),
        .testTarget(name: "sluiceTests", dependencies: ["SluiceKafka", "SluiceTesting", "SluiceWorkloads", "SluiceSQLite", "SluicePostgres", "SluicePostgresTesting",
                                                     .product(name: "PostgresNIO", package: "postgres-nio")]),
    ],
    swiftLanguageModes: [.v6]
)
