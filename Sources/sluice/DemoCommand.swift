import ArgumentParser
import Foundation
import GRDB
import Logging
import Sluice
import SluiceJobs
import SluiceKafka
import SluiceSQLite
import SluiceWorkloads

/// `sluice demo`: everything on one machine — an embedded Kafka cluster, a
/// load generator, the exactly-once word-count job into SQLite, and a
/// progress line per batch.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Embedded Kafka cluster + load generator + exactly-once word count into SQLite, with live progress.",
        discussion: "Ends after --seconds (or Ctrl-C) and prints the top words from the SQLite results."
    )

    @Option(help: "How long the load runs, in seconds; 0 runs until Ctrl-C.")
    var seconds: Int = 30

    @Option(help: "Lines per second the load generator sends.")
    var rate: Double = 20_000

    @Option(help: "The SQLite results file (replaced at start).")
    var database: String = "sluice-demo.db"

    @Option(help: "Batch interval, e.g. 1s or 500ms.")
    var interval: DurationArgument = DurationArgument(argument: "1s")!

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard seconds >= 0 else { throw ValidationError("--seconds must be 0 or more") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        common.bootstrapLogging()
        let logger = Logger(label: "sluice.demo")
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }

        let cluster = try MockCluster(brokers: 3, logger: logger)
        let topic = "words"
        try cluster.createTopic(topic, partitions: 4)
        logger.info("embedded Kafka cluster at \(cluster.bootstrapServers), topic \(topic) with 4 partitions")

        let signals = SignalWatcher()
        let load = LoadGenerator(bootstrap: cluster.bootstrapServers, topic: topic, rate: rate, seconds: seconds, logger: logger)
        let loadThread = Thread { load.run(until: signals) }
        loadThread.name = "sluice-demo-load"
        loadThread.start()

        let context = try StreamingContext(batchInterval: interval.duration, configuration: StreamingConfiguration(logger: logger))
        var job = WordCountJob(bootstrapServers: cluster.bootstrapServers, topic: topic, job: "demo-wordcount",
                               sink: .sqlite(path: database), interval: interval.duration)
        job.partitions = [0, 1, 2, 3]
        try job.createRepartitionTopics(on: cluster, partitions: 4)
        try await job.define(on: context)
        try context.start()
        logger.info("word count running: \(topic) → sqlite:\(database) (table word_counts); Ctrl-C stops")

        // Stop once the load is done and the job has caught up, or on Ctrl-C.
        while !signals.isStopped {
            try await Task.sleep(for: .milliseconds(200))
            if load.finished, let sent = load.sentCount, try committedRecords(of: [topic]) >= sent,
               try repartitionsDone(cluster: cluster) { break }
        }
        await context.stop(graceful: true)
        try await context.awaitTermination()
        try printSummary(sent: load.sentCount ?? 0)
    }

    /// Records of `topics` the job committed (every partition starts at 0).
    private func committedRecords(of topics: [String]) throws -> Int {
        try SQLiteStore(path: database).read { db in
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(SUM(next_offset), 0) FROM sluice_offsets WHERE job = 'demo-wordcount' AND topic IN (\(topics.map { _ in "?" }.joined(separator: ", ")))",
                arguments: StatementArguments(topics)) ?? 0
        }
    }

    /// Whether the job counted everything it wrote to its repartition topics.
    private func repartitionsDone(cluster: MockCluster) throws -> Bool {
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        let topics = WordCountJob.repartitionTopics(job: "demo-wordcount")
        var written = 0
        for topic in topics {
            for partition in Int32(0)..<4 { written += Int(try admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: partition)).high) }
        }
        return try committedRecords(of: topics) >= written
    }

    private func printSummary(sent: Int) throws {
        struct Word: Sendable { var word: String; var count: Int64 }
        let store = try SQLiteStore(path: database)
        let (top, distinct, total) = try store.read { db in
            (try Row.fetchAll(db, sql: "SELECT word, count FROM word_counts ORDER BY count DESC, word LIMIT 10")
                .map { Word(word: $0["word"], count: $0["count"]) },
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM word_counts") ?? 0,
             try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(count), 0) FROM word_counts") ?? 0)
        }
        var output = StandardOutput()
        output.write(Array("\n\(sent) lines sent; \(total) words counted, \(distinct) distinct, in \(database):".utf8))
        for word in top { output.write(Array("  \(word.word.padding(toLength: 14, withPad: " ", startingAt: 0)) \(word.count)".utf8)) }
        output.write(Array("query it: sqlite3 \(database) 'SELECT word, count FROM word_counts ORDER BY count DESC LIMIT 10'".utf8))
        output.flush()
    }
}

/// Sends word lines at a steady rate from its own thread.
final class LoadGenerator: @unchecked Sendable {
    let bootstrap: String
    let topic: String
    let rate: Double
    let seconds: Int
    let logger: Logger
    private let lock = NSLock()
    private var sent: Int?
    private var done = false

    init(bootstrap: String, topic: String, rate: Double, seconds: Int, logger: Logger) {
        self.bootstrap = bootstrap
        self.topic = topic
        self.rate = rate
        self.seconds = seconds
        self.logger = logger
    }

    var finished: Bool { lock.withLock { done } }
    /// Lines delivered, once the load is finished.
    var sentCount: Int? { lock.withLock { sent } }

    func run(until signals: SignalWatcher) {
        var count = 0
        defer { lock.withLock { done = true; sent = count } }
        do {
            var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
            configuration.compression = .lz4
            configuration.linger = .milliseconds(20)
            let producer = try KafkaProducer(configuration: configuration, logger: logger)
            var workload = Workload(format: .words, seed: 1)
            var pacer = Pacer(rate: rate)
            var progress = ProgressReporter(logger: logger, total: seconds > 0 ? Int(rate) * seconds : nil, unit: "lines")
            let end = ContinuousClock.now + .seconds(seconds)
            while !signals.isStopped, seconds == 0 || ContinuousClock.now < end, let line = workload.next() {
                pacer.wait(forRecord: count)
                try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(count % 4), value: Array(line.value.utf8)))
                count += 1
                progress.update(done: count, extra: "sent")
            }
            try producer.flush(timeout: .seconds(60))
            try producer.close()
            progress.finish(done: count, extra: "load finished")
        } catch {
            logger.error("load generator stopped: \(error)")
        }
    }
}
