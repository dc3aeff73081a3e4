import SluiceKafka

/// What a Kafka direct stream reads and how (Spark's `ConsumerStrategies`
/// and `spark.streaming.kafka.*` settings, as one value).
public struct KafkaSourceConfiguration: Sendable {
    /// Which partitions the stream reads.
    public enum Subscription: Sendable, Hashable {
        /// Join the group and read these topics; the group spreads their
        /// partitions over the job's processes, and partitions added to the
        /// topics later are picked up.
        case topics([String])
        /// Join the group and read every topic matching the regular expression.
        case pattern(String)
        /// Read exactly these partitions, with no group rebalance.
        case partitions([KafkaTopicPartition])
    }

    /// Where each partition starts when neither recovered nor explicit
    /// offsets say otherwise.
    public enum StartingPosition: Sendable, Hashable {
        /// The group's committed offset, else the first record in the log.
        case earliest
        /// The group's committed offset, else the end of the log.
        case latest
        /// These offsets (next record to read); partitions not listed fall
        /// back to the committed offset, else the end of the log.
        case offsets([KafkaTopicPartition: Int64])
    }

    /// Comma-separated `host:port` list of bootstrap brokers. Required.
    public var bootstrapServers: String
    /// What to read. Required.
    public var subscription: Subscription
    /// The consumer group: coordinates partitions between processes and
    /// receives the committed offsets (for lag monitoring). Required.
    public var groupID: String
    /// Default: `.latest` (Kafka's default).
    public var startingPosition: StartingPosition = .latest
    /// Most records per second read from one partition; 0 means no limit.
    /// Default: 0 (Spark's `spark.streaming.kafka.maxRatePerPartition`).
    public var maxRatePerPartition: Double = 0
    /// Fewest records per partition per batch allowed by backpressure.
    /// Default: 1 (Spark's `minRatePerPartition`).
    public var minRecordsPerPartition: Int64 = 1
    /// Whether records of aborted or open transactions are hidden; with
    /// `.readCommitted` a batch never reads past the last stable offset.
    /// Default: `.readCommitted`.
    public var isolationLevel: KafkaIsolationLevel = .readCommitted
    /// Commit each completed batch's until-offsets to the group, so lag
    /// tools see progress. Exactly-once sinks keep their own offsets; the
    /// group's are advisory. Default: `true`.
    public var commitOffsetsToGroup: Bool = true
    /// Fail a batch when records it should read were deleted by retention
    /// before they were read; false skips them with a warning. Default: true.
    public var failOnDataLoss: Bool = true
    /// Records buffered per partition ahead of the batches; fetching that
    /// partition pauses above it. Default: 200,000.
    public var maxBufferedRecordsPerPartition: Int = 200_000
    /// How long reading a planned range may wait for its records before the
    /// batch fails with an error naming the partition and offsets. Default: 60 s.
    public var readTimeout: Duration = .seconds(60)
    /// How often partition counts are checked, so new partitions join a
    /// subscription. Default: 5 s.
    public var partitionDiscoveryInterval: Duration = .seconds(5)
    /// Whether each partition is a task (DESIGN.md, "Scale-out"): the topic
    /// is keyed by the key the job keeps state by, so a key's records and
    /// state live in one partition. Processes of the job then share the
    /// partitions through the group, each committing and keeping the state
    /// of its own. Keep false when the job's state keys are not the topic's
    /// keys (repartition the stream instead): the job then runs in one
    /// process at a time. Default: false.
    public var partitionsAreTasks: Bool = false
    /// The underlying consumer's settings (session timeouts, fetch sizes,
    /// extra librdkafka properties). An assignment strategy left at Kafka's
    /// eager default becomes cooperative-sticky, so a rebalance only revokes
    /// the partitions that move. Bootstrap servers, group, isolation
    /// level and commit settings are taken from the fields above.
    public var consumer: KafkaConsumerConfiguration

    /// A stream of `topics` for the group `groupID`.
    public init(bootstrapServers: String, topics: [String], groupID: String) {
        self.init(bootstrapServers: bootstrapServers, subscription: .topics(topics), groupID: groupID)
    }

    public init(bootstrapServers: String, subscription: Subscription, groupID: String) {
        self.bootstrapServers = bootstrapServers
        self.subscription = subscription
        self.groupID = groupID
        self.consumer = KafkaConsumerConfiguration(bootstrapServers: bootstrapServers, groupID: groupID)
    }

    /// librdkafka's own prefetch queue for the stream's consumer, unless
    /// `consumer.additionalProperties["queued.max.messages.kbytes"]` says otherwise.
    static let librdkafkaQueueKilobytes = 8192

    /// The consumer configuration the stream actually uses.
    var effectiveConsumerConfiguration: KafkaConsumerConfiguration {
        var configuration = consumer
        configuration.bootstrapServers = bootstrapServers
        configuration.groupID = groupID
        configuration.isolationLevel = isolationLevel
        configuration.enableAutoCommit = false
        // Left at Kafka's eager default, a member joining would revoke every
        // partition mid-batch; cooperative-sticky moves only what must move.
        if configuration.partitionAssignmentStrategy == KafkaConsumerConfiguration(bootstrapServers: "").partitionAssignmentStrategy {
            configuration.partitionAssignmentStrategy = [.cooperativeSticky]
        }
        switch startingPosition {
        case .earliest: configuration.autoOffsetReset = .earliest
        case .latest, .offsets: configuration.autoOffsetReset = .latest
        }
        // The stream keeps its own read-ahead (maxBufferedRecordsPerPartition)
        // and drains librdkafka's queue as records arrive: a small queue there
        // is enough to keep fetches flowing, and a large one only held a
        // second copy of a backlog (~64 MB by default).
        configuration.additionalProperties["queued.max.messages.kbytes"] =
            configuration.additionalProperties["queued.max.messages.kbytes"] ?? String(Self.librdkafkaQueueKilobytes)
        configuration.additionalProperties["topic.metadata.refresh.interval.ms"] =
            configuration.additionalProperties["topic.metadata.refresh.interval.ms"]
            ?? String(max(1, Int(partitionDiscoveryInterval.components.seconds * 1000
                + partitionDiscoveryInterval.components.attoseconds / 1_000_000_000_000_000)))
        return configuration
    }

    /// Checks the settings that can be checked without a broker.
    func validate() throws {
        func invalid(_ setting: String, _ message: String) -> KafkaError {
            KafkaError(code: .invalidConfiguration, message: "\(setting): \(message)", setting: setting)
        }
        guard !bootstrapServers.isEmpty else { throw invalid("bootstrapServers", "is empty; set it to host:port of a broker") }
        guard !groupID.isEmpty else { throw invalid("groupID", "is empty; name the consumer group of the job") }
        switch subscription {
        case .topics(let topics) where topics.isEmpty || topics.contains(where: \.isEmpty):
            throw invalid("subscription", "list at least one topic, and no empty names")
        case .pattern(let pattern) where pattern.isEmpty:
            throw invalid("subscription", "the topic pattern is empty")
        case .partitions(let partitions) where partitions.isEmpty:
            throw invalid("subscription", "list at least one partition")
        default: break
        }
        guard maxRatePerPartition >= 0, maxRatePerPartition.isFinite else {
            throw invalid("maxRatePerPartition", "must be 0 (no limit) or a positive rate, not \(maxRatePerPartition)")
        }
        guard maxBufferedRecordsPerPartition >= 1 else {
            throw invalid("maxBufferedRecordsPerPartition", "must be at least 1, not \(maxBufferedRecordsPerPartition)")
        }
        guard readTimeout > .zero else { throw invalid("readTimeout", "must be positive, not \(readTimeout)") }
    }
}
