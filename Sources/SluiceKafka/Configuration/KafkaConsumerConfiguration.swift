import Foundation

/// Everything a ``KafkaConsumer`` needs, as a value.
///
/// Translated into librdkafka properties in exactly one place
/// (``librdkafkaProperties``); any other librdkafka property can be passed
/// through ``additionalProperties`` and is validated when the consumer starts.
public struct KafkaConsumerConfiguration: Sendable {
    /// Comma-separated `host:port` list of bootstrap brokers. Required.
    public var bootstrapServers: String
    /// The consumer group. Required for `subscribe` and for committed
    /// offsets that outlive the consumer; `nil` for pure `assign` consumers,
    /// which then get a private group of their own (commits work but are
    /// seen by no other consumer). Default: `nil`.
    public var groupID: String?
    /// The client id brokers log. Default: `"sluice"`.
    public var clientID: String = "sluice"
    /// Where to start when the group has no committed offset. Default: `.latest`.
    public var autoOffsetReset: KafkaAutoOffsetReset = .latest
    /// Whether aborted transactional records are hidden. Default: `.readCommitted`.
    public var isolationLevel: KafkaIsolationLevel = .readCommitted
    /// Whether librdkafka commits offsets in the background. Sluice commits
    /// explicit offsets itself. Default: `false`.
    public var enableAutoCommit: Bool = false
    /// Group membership timing.
    public var session = SessionOptions()
    /// Fetch sizes and prefetch queue.
    public var fetch = FetchOptions()
    /// How partitions are spread over group members. Default: `[.range, .roundRobin]`
    /// (librdkafka's). `.cooperativeSticky` allows commits inside revoke events.
    public var partitionAssignmentStrategy: [KafkaPartitionAssignmentStrategy] = [.range, .roundRobin]
    /// Connection retry backoff.
    public var reconnect = ReconnectOptions()
    /// TLS and SASL: how the client authenticates and encrypts its connections.
    public var security = KafkaSecurityOptions()
    /// Any other librdkafka property (`name → value`), validated at start.
    /// Default: empty.
    public var additionalProperties: [String: String] = [:]
    /// Whether records carry their headers. librdkafka parses a record's
    /// header section on first access, allocating even when it holds no
    /// header, which costs a fetch-bound consumer ~10% of its rate;
    /// consumers that ignore headers can turn it off. Default: true.
    public var readsHeaders: Bool = true

    /// Group membership timing.
    public struct SessionOptions: Sendable {
        /// A member is removed when no heartbeat arrives in this time. Default: 45 s.
        public var timeout: Duration = .seconds(45)
        /// Time between heartbeats. Default: 3 s.
        public var heartbeatInterval: Duration = .seconds(3)
        /// A member that does not poll in this time leaves the group. Default: 300 s.
        public var maxPollInterval: Duration = .seconds(300)
        public init() {}
    }

    /// Fetch sizes and the prefetch queue.
    public struct FetchOptions: Sendable {
        /// Minimum bytes a broker waits for before answering a fetch. Default: 1.
        public var minBytes: Int = 1
        /// Maximum bytes per fetch response. Default: 52,428,800.
        public var maxBytes: Int = 52_428_800
        /// Maximum bytes per partition per fetch. Default: 1,048,576.
        public var maxPartitionBytes: Int = 1_048_576
        /// Longest time a broker waits to fill `minBytes`. Default: 500 ms.
        public var maxWait: Duration = .milliseconds(500)
        /// Records librdkafka prefetches per partition. librdkafka's default
        /// (100,000) stalls fast consumers in ~1 s steps, so Sluice raises
        /// it. Default: 1,000,000.
        public var queuedMinMessages: Int = 1_000_000
        public init() {}
    }

    /// Creates a configuration; only the bootstrap servers are required.
    public init(bootstrapServers: String, groupID: String? = nil) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
    }

    /// The librdkafka properties this configuration stands for, in the
    /// order they are applied (``additionalProperties`` last, so they win).
    /// Without a ``groupID`` each call names a new private group.
    public var librdkafkaProperties: [(name: String, value: String)] {
        var properties: [(name: String, value: String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientID),
            ("auto.offset.reset", autoOffsetReset.rawValue),
            ("isolation.level", isolationLevel.rawValue),
            ("enable.auto.commit", enableAutoCommit ? "true" : "false"),
            // Sluice stores the offsets it commits explicitly.
            ("enable.auto.offset.store", "false"),
            ("session.timeout.ms", session.timeout.kafkaMilliseconds),
            ("heartbeat.interval.ms", session.heartbeatInterval.kafkaMilliseconds),
            ("max.poll.interval.ms", session.maxPollInterval.kafkaMilliseconds),
            ("fetch.min.bytes", String(fetch.minBytes)),
            ("fetch.max.bytes", String(fetch.maxBytes)),
            ("max.partition.fetch.bytes", String(fetch.maxPartitionBytes)),
            ("fetch.wait.max.ms", fetch.maxWait.kafkaMilliseconds),
            ("queued.min.messages", String(fetch.queuedMinMessages)),
            ("partition.assignment.strategy", partitionAssignmentStrategy.map(\.rawValue).joined(separator: ",")),
        ]
        // librdkafka refuses `assign` without a group id; a consumer that only
        // assigns gets a private group it never joins (commits still work).
        // Unique per translation, so per consumer: a per-process name made
        // groupless consumers share commits (and in containers every
        // process is pid 1), so one started at another's committed offset.
        properties.append(("group.id", groupID ?? "sluice-unjoined-\(UUID().uuidString.lowercased())"))
        properties += reconnect.librdkafkaProperties
        properties += security.librdkafkaProperties
        properties += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return properties
    }
}

/// Where a consumer starts when there is no committed offset.
public enum KafkaAutoOffsetReset: String, Sendable, CaseIterable {
    /// The first record still in the log.
    case earliest
    /// The next record produced.
    case latest
    /// Fail with an error instead of guessing.
    case error
}

/// Whether a consumer sees records of aborted or still-open transactions.
public enum KafkaIsolationLevel: String, Sendable, CaseIterable {
    case readCommitted = "read_committed"
    case readUncommitted = "read_uncommitted"
}

/// How a consumer group spreads partitions over its members.
public enum KafkaPartitionAssignmentStrategy: String, Sendable, CaseIterable {
    case range
    case roundRobin = "roundrobin"
    case cooperativeSticky = "cooperative-sticky"
}
