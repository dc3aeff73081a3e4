import Logging
import Sluice
import SluiceKafka
import SluiceKafkaStream

/// The reference exactly-once job: splits each record's value on spaces,
/// keeps running totals with `updateStateByKey` in
/// `word_counts(word TEXT PRIMARY KEY, count INTEGER NOT NULL)` and counts
/// words per second of record timestamp (an event-time tumbling window) in
/// `words_per_second(window_start INTEGER PRIMARY KEY, window_end INTEGER,
/// words INTEGER)`, committing both tables, offsets and state in one
/// transaction per batch.
///
/// Both counts go through repartition topics (`<job>-words-repartition`,
/// `<job>-words-per-second-repartition`): several processes of the job
/// share the topic's partitions through the consumer group, with the
/// results of one process.
///
/// Records whose value is not UTF-8 go to the store's dead letters with
/// their topic, partition and offset; the job goes on.
public struct WordCountJob: Sendable {
    public var bootstrapServers: String
    public var topic: String
    public var job: String
    public var sink: SinkSpecification
    public var interval: Duration
    /// Records per partition per second; 0 for no limit. Default: 0.
    public var maxRatePerPartition: Double = 0
    /// Default: `.deadLetter`.
    public var deadLetterPolicy: DeadLetterPolicy = .deadLetter
    /// Consumer settings (session timeouts in tests). Default: Kafka's.
    public var consumer: KafkaConsumerConfiguration?
    /// How a kafka: sink's clients reach the cluster (give the consumer the
    /// same with ``KafkaConnectionSettings/apply(to:)-consumer``). Default: plaintext.
    public var kafka = KafkaConnectionSettings()
    /// Read exactly these partitions of the topic without joining the group
    /// (no rebalance wait); nil subscribes through the group. Default: nil.
    public var partitions: [Int32]?

    public init(bootstrapServers: String, topic: String, job: String, sink: SinkSpecification, interval: Duration = .seconds(1)) {
        self.bootstrapServers = bootstrapServers
        self.topic = topic
        self.job = job
        self.sink = sink
        self.interval = interval
    }

    /// The repartition topics of job `job`, which the job creates at start
    /// with the input topic's partition count where the cluster lets it
    /// (the embedded cluster does not: create them with `sluice broker --topic`).
    public static func repartitionTopics(job: String) -> [String] {
        ["\(job)-words-repartition", "\(job)-words-per-second-repartition"]
    }

    /// The result table.
    public static let table = ResultTable(
        name: "word_counts",
        columns: [ResultColumn("word", .text), ResultColumn("count", .integer)],
        mode: .upsert(key: ["word"]))

    /// The windowed count: words per second of record timestamp.
    public static let windowTable = ResultTable(
        name: "words_per_second",
        columns: [ResultColumn("window_start", .integer), ResultColumn("window_end", .integer), ResultColumn("words", .integer)],
        mode: .upsert(key: ["window_start"]))

    /// Builds the job on `context` (recovering offsets and state from the
    /// sink); start the context afterwards.
    public func define(on context: StreamingContext) async throws {
        let subscription: KafkaSourceConfiguration.Subscription = partitions.map {
            .partitions($0.map { KafkaTopicPartition(topic: topic, partition: $0) })
        } ?? .topics([topic])
        var source = KafkaSourceConfiguration(bootstrapServers: bootstrapServers, subscription: subscription, groupID: job)
        source.startingPosition = .earliest
        source.maxRatePerPartition = maxRatePerPartition
        if let consumer { source.consumer = consumer }
        let records = context.kafkaDirectStream(source)
        // Both counts are keyed by what they count, through the job's
        // repartition topics, so that processes of the job share the work
        // and each key's count lives in one task.
        let words = try records.repartition("words", onBadRecord: deadLetterPolicy) { record -> [(String, Int64)] in
            try Self.text(of: record).split(separator: " ").map { (String($0), Int64(1)) }
        }
        let seconds = try records.repartition("words-per-second", onBadRecord: deadLetterPolicy) { record -> [(Int64, TimedWords)] in
            let time = record.timestamp?.milliseconds ?? 0
            let count = Int64(try Self.text(of: record).split(separator: " ").count)
            return [(time - time % 1_000, TimedWords(time: time, words: count))]
        }
        let totals = words.updateStateByKey(name: "word-totals") { (values: [Int64], total: Int64?) -> Int64? in
            (total ?? 0) + values.reduce(0, +)
        }
        // updateStateByKey's stream holds every word seen so far; only the
        // words of this batch changed, so only they are written.
        let changedTotals = words.reduceByKey(+).join(totals).map { ($0.0, $0.1.1) }
        // Words per second of record time: an event-time count, so the same
        // input gives the same rows however it was cut into batches. The
        // lateness is generous (an hour) so that no record of a replay is late.
        let perSecond = seconds
            .aggregateByEventTime(
                name: "words-per-second", timestamp: { Time(milliseconds: $1.time) }, windows: .tumbling(.seconds(1)),
                allowedLateness: .seconds(3_600), emit: .onEveryUpdate,
                initial: Int64(0), add: { $0 + $1.words }, merge: +)
            .results
        try await context.saveExactlyOnce(to: try sink.open(kafkaBootstrapServers: bootstrapServers, kafka: kafka), job: job, tables: [
            ExactlyOnceTable(changedTotals, table: Self.table) { [.text($0.0), .integer($0.1)] },
            ExactlyOnceTable(perSecond, table: Self.windowTable) {
                [.integer($0.window.start), .integer($0.window.end), .integer($0.value)]
            },
        ])
    }
}

extension WordCountJob {
    /// A record's value as text; throws for bytes that are not UTF-8.
    static func text(of record: KafkaRecord) throws -> String {
        guard let text = record.valueString else { throw UndecodableValue(bytes: record.value.count) }
        return text
    }
}

/// The words of one record and its time, on their way to the count of its second.
struct TimedWords: Codable, Sendable {
    var time: Int64
    var words: Int64
}

/// A record value that is not valid UTF-8.
struct UndecodableValue: Error, CustomStringConvertible {
    var bytes: Int
    var description: String { "value of \(bytes) bytes is not valid UTF-8" }
}

extension WordCountJob {
    /// Creates the job's repartition topics on an embedded cluster, which
    /// cannot create topics on request, unless they exist.
    public func createRepartitionTopics(on cluster: MockCluster, partitions: Int32) throws {
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        for name in Self.repartitionTopics(job: job) where (try? admin.describeTopic(name)) == nil {
            try cluster.createTopic(name, partitions: partitions)
        }
    }
}
