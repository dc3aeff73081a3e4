import Logging
import Sluice
import SluiceKafka
import Synchronization

/// The exactly-once store on Kafka itself: each batch is one Kafka
/// transaction holding the result records (output topic), the state changes,
/// the until-offsets and the batch time (a compacted changelog topic), and
/// the offsets again for the group through send-offsets-to-transaction,
/// and the batch's dead letters (a dead-letter topic).
/// Readers of the output use read_committed.
///
/// A stable transactional id per job (`sluice-<job>`) fences zombie
/// instances: `recover` calls `initTransactions`, after which an older
/// process with the same id can no longer commit.
///
/// Result rows become records keyed by the key columns (upsert tables) with
/// the row's columns joined by tabs as value — the word count writes
/// `word<TAB>count` keyed by word.
///
/// librdkafka's mock cluster accepts but does not emulate transactions
/// (shared/TESTING.md): on it, recovery after a crash mid-transaction can
/// see records of the aborted transaction. Use a real broker for that.
public final class KafkaTransactionalStore: ExactlyOnceStore {
    public let configuration: Configuration
    public var description: String { "kafka:\(configuration.outputTopic)" }

    /// Where the store writes and how it names itself.
    public struct Configuration: Sendable {
        public var bootstrapServers: String
        /// Topic of the result records.
        public var outputTopic: String
        /// Compacted topic of state, offsets and batch time. Default: `<output>-changelog`.
        public var changelogTopic: String
        /// Topic of dead letters (records that failed to decode). Default: `<output>-dead-letters`.
        public var deadLetterTopic: String
        /// Consumer group whose offsets the transactions commit. Default: the job name.
        public var groupID: String?
        /// Transactional id. Default: `sluice-<job>`.
        public var transactionalID: String?
        /// Create the changelog topic (one partition, cleanup.policy=compact)
        /// at recovery when it is missing. librdkafka's mock cluster has no
        /// topic administration: create it there with `MockCluster.createTopic`
        /// and set this to false. Default: true.
        public var createChangelogTopic: Bool = true
        /// Settings of the producer; its ``KafkaProducerConfiguration/security``
        /// also serves the changelog reader and the topic administration.
        public var producer: KafkaProducerConfiguration?

        public init(bootstrapServers: String, outputTopic: String, changelogTopic: String? = nil) {
            self.bootstrapServers = bootstrapServers
            self.outputTopic = outputTopic
            self.changelogTopic = changelogTopic ?? "\(outputTopic)-changelog"
            self.deadLetterTopic = "\(outputTopic)-dead-letters"
        }
    }

    private let logger: Logger
    private let session = Mutex<Session?>(nil)

    /// The producer of one job, made at recovery.
    private struct Session: Sendable {
        let job: String
        let producer: KafkaProducer
        let groupMetadata: KafkaConsumerGroupMetadata
    }

    public init(configuration: Configuration, logger: Logger = Logger(label: "sluice.kafka.sink")) {
        self.configuration = configuration
        self.logger = logger
    }

    public func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob {
        for table in tables { try table.validate() }
        let configuration = self.configuration
        let logger = self.logger
        if configuration.createChangelogTopic {
            try await KafkaBlocking.run { try Self.ensureChangelogTopic(configuration, logger: logger) }
        }
        var producerConfiguration = configuration.producer ?? KafkaProducerConfiguration(bootstrapServers: configuration.bootstrapServers)
        producerConfiguration.bootstrapServers = configuration.bootstrapServers
        producerConfiguration.transactionalID = configuration.transactionalID ?? "sluice-\(job)"
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        // Fences any older instance of this job before reading its changelog.
        try await KafkaBlocking.run { try producer.initTransactions() }
        let groupMetadata = try KafkaConsumerGroupMetadata(groupID: configuration.groupID ?? job)
        let recovered = try await KafkaBlocking.run { try ChangelogReader(configuration: configuration, logger: logger).read(job: job) }
        session.withLock { $0 = Session(job: job, producer: producer, groupMetadata: groupMetadata) }
        return recovered
    }

    /// The Kafka store fences with its transactional id, per job: recovery
    /// registers it (`initTransactions`), which fences an older producer of
    /// the job on a real broker, and the fenced producer's next commit fails
    /// with ``StreamingError/Code/fenced``. There is no owner epoch to carry.
    /// (librdkafka's mock cluster does not emulate this fencing.)
    public func claim(job: String, owner: JobOwner) async throws -> OwnerClaim {
        OwnerClaim(epoch: nil, previousOwner: nil)
    }

    /// Tasks of a job in this store: one process at a time still (the
    /// transactional id is the job's), so claims need no epoch of their own
    /// and every section is written.
    public func claim(job: String, tasks: [TaskID], owner: JobOwner) async throws -> [TaskID: Int64] {
        Dictionary(uniqueKeysWithValues: tasks.map { ($0, 0) })
    }

    /// Reads the job's changelog and keeps what it holds for these partitions and operators.
    public func recover(job: String, partitions: [TaskID], operators: [String]) async throws -> RecoveredJob {
        let configuration = self.configuration
        let logger = self.logger
        let all = try await KafkaBlocking.run { try ChangelogReader(configuration: configuration, logger: logger).read(job: job) }
        let wanted = Set(partitions)
        let names = Set(operators)
        return RecoveredJob(
            lastBatchTime: all.lastBatchTime,
            offsets: all.offsets.filter { wanted.contains(TaskID(topic: $0.topic, partition: $0.partition)) },
            operators: all.operators.filter { names.contains($0.key) })
    }

    @discardableResult
    public func commit(_ commit: BatchCommit) async throws -> CommitOutcome {
        let commit = commit.withSectionsMerged()
        guard let session = session.withLock({ $0 }), session.job == commit.job else {
            throw StreamingError(code: .outputFailed, message: "\(description): commit for job '\(commit.job)' before its recovery")
        }
        let configuration = self.configuration
        try await KafkaBlocking.run {
            let producer = session.producer
            try producer.beginTransaction()
            do {
                for write in commit.writes {
                    let topic = Self.topic(of: write.table, in: commit, configuration: configuration)
                    for row in write.rows {
                        try producer.send(ResultRecord.message(row: row, table: write.table, topic: topic))
                    }
                }
                for message in ChangelogRecord.messages(for: commit, topic: configuration.changelogTopic) {
                    try producer.send(message)
                }
                for letter in commit.deadLetters {
                    try producer.send(ChangelogRecord.deadLetter(letter, job: commit.job, topic: configuration.deadLetterTopic))
                }
                var offsets: [KafkaTopicPartition: Int64] = [:]
                for offset in commit.offsets {
                    offsets[KafkaTopicPartition(topic: offset.topic, partition: offset.partition)] = offset.offset
                }
                if !offsets.isEmpty {
                    try producer.sendOffsetsToTransaction(offsets, groupMetadata: session.groupMetadata)
                }
                try producer.commitTransaction()
            } catch let error as KafkaError where error.requiresTransactionAbort {
                try? producer.abortTransaction()
                throw error
            } catch let error as KafkaError where error.code == .producerFenced {
                throw StreamingError(
                    code: .fenced,
                    message: "job '\(commit.job)': another producer registered the transactional id \(producer.configuration.transactionalID ?? "") "
                        + "(another process took the job over): batch \(commit.batchTime) was not committed and this process stops",
                    underlying: error)
            }
        }
        return CommitOutcome()
    }

    /// The first table's rows go to the output topic; further tables' to
    /// `<output>-<table name>`.
    static func topic(of table: ResultTable, in commit: BatchCommit, configuration: Configuration) -> String {
        commit.writes.first?.table.name == table.name ? configuration.outputTopic : "\(configuration.outputTopic)-\(table.name)"
    }

    /// Forgets the job: appends a reset marker to the changelog, after which
    /// recovery ignores everything the job wrote before. Uses the job's
    /// transactional id, so a running instance of the job is fenced.
    public func reset(job: String) async throws {
        let configuration = self.configuration
        let logger = self.logger
        try await KafkaBlocking.run {
            var producerConfiguration = configuration.producer ?? KafkaProducerConfiguration(bootstrapServers: configuration.bootstrapServers)
            producerConfiguration.bootstrapServers = configuration.bootstrapServers
            producerConfiguration.transactionalID = configuration.transactionalID ?? "sluice-\(job)"
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            defer { try? producer.close(timeout: .seconds(5)) }
            try producer.initTransactions()
            try producer.beginTransaction()
            try producer.send(KafkaProducerMessage(
                topic: configuration.changelogTopic, partition: 0, key: ChangelogRecord.key(["reset", job]), value: []))
            try producer.commitTransaction()
        }
    }

    /// Closes the producer (flushing nothing: every batch was committed or aborted).
    public func close() {
        let producer = session.withLock { session -> KafkaProducer? in
            defer { session = nil }
            return session?.producer
        }
        try? producer?.close(timeout: .seconds(5))
    }

    /// Creates the changelog compacted with one partition. Clusters without
    /// topic administration (the mock) time out here: the changelog is then
    /// created by the first transaction's records (auto-creation), without
    /// compaction — create it yourself with cleanup.policy=compact.
    private static func ensureChangelogTopic(_ configuration: Configuration, logger: Logger) throws {
        let admin = try KafkaAdmin(
            bootstrapServers: configuration.bootstrapServers, security: configuration.producer?.security ?? KafkaSecurityOptions())
        if (try? admin.describeTopic(configuration.changelogTopic)) != nil { return }
        do {
            try admin.createTopic(
                configuration.changelogTopic, partitions: 1, replicationFactor: -1,
                config: ["cleanup.policy": "compact"], timeout: .seconds(10))
        } catch let error as KafkaError where error.code == .topicAlreadyExists {
            return
        } catch {
            logger.warning("""
                could not create the changelog topic \(configuration.changelogTopic) (\(error)); \
                it will be auto-created on first use without compaction — create it with cleanup.policy=compact
                """)
        }
    }
}
