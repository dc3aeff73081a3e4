import ArgumentParser
import Foundation
import Sluice
import SluiceKafka
import SluiceKafkaSink
import SluiceKafkaStream
import SluicePostgres
import SluiceSQLite

/// Issue 5: the reference word-count job (SluiceJobs' WordCountJob: split
/// on spaces, running totals with updateStateByKey, `word_counts` upserted
/// exactly once) over a mock-cluster topic, into SQLite and into the Kafka
/// transactional store, against the same job with a no-op store in the
/// same run. Each job is a child process; the store is wrapped to time its
/// commits.
struct SinkBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinks",
        abstract: "Exactly-once word count into SQLite and Kafka vs a no-op sink (issue 5).")

    @Option(help: "Lines in the topic.") var lines: Int = 1_000_000
    @Option(help: "Partitions of the topic.") var partitions: Int32 = 8
    @Option(help: "Batch interval in milliseconds.") var intervalMs: Int = 1000
    @Option(help: "Rounds per sink (median reported).") var rounds: Int = 3
    @Option(parsing: .upToNextOption, help: "Sinks to measure besides noop.") var sinks: [String] = ["sqlite", "kafka"]
    @Option(help: "A PostgreSQL server (postgres://user@host:port/database) to measure the PostgreSQL sink too; Benchmarks/sinks/run.sh starts a throwaway one.")
    var postgresURL: String?

    func run() throws {
        printLoad()
        let cluster = try MockCluster(brokers: 1)
        let topic = "bench-sink-words"
        print("filling \(topic): \(lines) lines, \(partitions) partitions, zstd …")
        let filled = try WordTopic.fill(cluster: cluster, topic: topic, partitions: partitions, lines: lines, compression: .zstd)
        print("topic holds \(filled.lines) lines, \(filled.words) words (low watermarks 0)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-sinks-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let all = ["noop"] + sinks + (postgresURL == nil ? [] : ["postgres"])
        var reports: [String: [ChildReport]] = [:]
        for round in 1...rounds {
            var line = "round \(round):"
            for sink in all {
                var arguments = ["run-sink", "--bootstrap", cluster.bootstrapServers, "--topic", topic,
                                 "--partitions", "\(partitions)", "--records", "\(lines)", "--interval-ms", "\(intervalMs)",
                                 "--sink", sink, "--job", "bench-\(sink)-\(round)"]
                switch sink {
                case "sqlite":
                    arguments += ["--path", directory.appendingPathComponent("round\(round).sqlite").path]
                case "kafka":
                    let output = "bench-word-totals-\(round)"
                    try cluster.createTopic(output, partitions: partitions)
                    try cluster.createTopic(output + "-changelog", partitions: 1)
                    arguments += ["--output-topic", output]
                case "postgres":
                    arguments += ["--postgres-url", postgresURL ?? "", "--table", "word_counts_r\(round)"]
                default:
                    break
                }
                let report = try ChildProcess.runSelf(arguments, what: "word count into \(sink)")
                guard report["countedWords"] == Double(filled.words) else {
                    throw BenchError("word count into \(sink): the running totals add up to \(report["countedWords"]) words, the topic holds \(filled.words)")
                }
                reports[sink, default: []].append(report)
                line += " \(sink) \(Format.rate(report["recordsPerSecond"])) records/s;"
            }
            print(line)
        }
        print("")
        print("## sinks — WordCountJob's pipeline (String split, updateStateByKey running totals, saveExactlyOnce upsert) over \(lines) lines, \(partitions) partitions, batch interval \(intervalMs) ms; medians of \(rounds) rounds")
        let noop = Measure.median((reports["noop"] ?? []).map { $0["recordsPerSecond"] })
        for sink in all {
            let runs = reports[sink] ?? []
            let rate = Measure.median(runs.map { $0["recordsPerSecond"] })
            let share = Measure.median(runs.map { $0["commitShare"] })
            let commit = Measure.median(runs.map { $0["commitSeconds"] })
            let batches = Measure.median(runs.map { $0["commits"] })
            let rss = runs.map { $0["peakRSS"] }.max() ?? 0
            var text = String(format: "%-8@ %@ records/s end to end, commit %.1f%% of the run (%.3f s over %.0f commits, %.0f batches with records), %.0f distinct words upserted, peak RSS %@",
                              sink, Format.rate(rate), share * 100, commit, batches, Measure.median(runs.map { $0["batchesWithRecords"] }),
                              Measure.median(runs.map { $0["distinctWords"] }), Format.megabytes(Int(rss)))
            if sink != "noop" {
                let ratio = rate / noop
                text += "; / noop = \(Format.ratio(ratio)) (target ≥ 0.50×: \(Format.verdict(ratio >= 0.5)))"
            }
            print(text)
        }
        printLoad()
    }
}

/// An exactly-once store that does nothing: the baseline of the sink benchmark.
struct NoopStore: ExactlyOnceStore {
    var description: String { "noop" }
    func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob { .empty }
    func claim(job: String, owner: JobOwner) async throws -> OwnerClaim { OwnerClaim(epoch: nil, previousOwner: nil) }
    func commit(_ commit: BatchCommit) async throws -> CommitOutcome { CommitOutcome() }
    func reset(job: String) async throws {}
}

/// Wraps a store and adds up the time spent in its commits.
final class TimedStore: ExactlyOnceStore, @unchecked Sendable {
    let inner: any ExactlyOnceStore
    private let lock = NSLock()
    private var seconds = 0.0
    private var commits = 0
    private var rows = 0
    private var lastTotal: Int64 = 0

    init(_ inner: any ExactlyOnceStore) { self.inner = inner }

    var description: String { inner.description }

    func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob {
        try await inner.recover(job: job, tables: tables)
    }

    func claim(job: String, owner: JobOwner) async throws -> OwnerClaim {
        try await inner.claim(job: job, owner: owner)
    }

    func commit(_ commit: BatchCommit) async throws -> CommitOutcome {
        let start = Measure.now()
        let outcome = try await inner.commit(commit)
        let elapsed = Measure.now() - start
        lock.withLock {
            seconds += elapsed
            commits += 1
            rows = max(rows, commit.rows.count)
            if !commit.rows.isEmpty {
                lastTotal = commit.rows.reduce(0) { sum, row in
                    if case .integer(let count) = row[1] { return sum + count }
                    return sum
                }
            }
        }
        return outcome
    }

    func reset(job: String) async throws {
        try await inner.reset(job: job)
    }

    var totals: (seconds: Double, commits: Int, rows: Int) { lock.withLock { (seconds, commits, rows) } }

    /// Sum of the count column of the last commit's rows (every running total).
    var lastCommittedTotal: Int64 { lock.withLock { lastTotal } }
}

/// The sink child: WordCountJob's pipeline into one store, until every
/// record was counted. `start()` is called just before a batch boundary.
struct SinkChild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-sink", abstract: "Benchmark child: exactly-once word count into one store.", shouldDisplay: false)

    @Option var bootstrap: String
    @Option var topic: String
    @Option var partitions: Int
    @Option var records: Int
    @Option var intervalMs: Int = 1000
    @Option var sink: String
    @Option var job: String
    @Option var path: String?
    @Option var outputTopic: String?
    @Option var postgresURL: String?
    @Option var table: String = "word_counts"
    @Option(help: "Milliseconds between start() and the first batch time.") var leadMs: Double = 200

    func run() async throws {
        ChildSetup.quietLogging()
        let inner: any ExactlyOnceStore
        switch sink {
        case "sqlite":
            guard let path else { throw BenchError("--path is required for sqlite") }
            inner = try SQLiteStore(path: path)
        case "kafka":
            guard let outputTopic else { throw BenchError("--output-topic is required for kafka") }
            var configuration = KafkaTransactionalStore.Configuration(bootstrapServers: bootstrap, outputTopic: outputTopic)
            configuration.createChangelogTopic = false
            inner = KafkaTransactionalStore(configuration: configuration, logger: ChildSetup.logger)
        case "postgres":
            guard let postgresURL else { throw BenchError("--postgres-url is required for postgres") }
            inner = try PostgresStore(url: postgresURL)
        default:
            inner = NoopStore()
        }
        let store = TimedStore(inner)
        let context = try StreamingContext(
            batchInterval: .milliseconds(intervalMs), configuration: StreamingConfiguration(logger: ChildSetup.logger))
        var source = KafkaSourceConfiguration(
            bootstrapServers: bootstrap,
            subscription: .partitions((0..<partitions).map { KafkaTopicPartition(topic: topic, partition: Int32($0)) }),
            groupID: job)
        source.startingPosition = .earliest
        // The pipeline of SluiceJobs' WordCountJob.define.
        let lines = context.kafkaDirectStream(source).mapOrDeadLetter(
            locate: { DeadLetterPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset, payload: Array($0.value)) }
        ) { record -> String in
            guard let text = record.valueString else { throw BenchError("value is not UTF-8") }
            return text
        }
        let totals = lines
            .flatMap { $0.split(separator: " ") }
            .map { (String($0), Int64(1)) }
            .updateStateByKey(name: "word-totals") { (values: [Int64], total: Int64?) -> Int64? in
                (total ?? 0) + values.reduce(0, +)
            }
        let table = ResultTable(
            name: self.table, columns: [ResultColumn("word", .text), ResultColumn("count", .integer)],
            mode: .upsert(key: ["word"]))
        try await totals.saveExactlyOnce(to: store, job: job, table: table) { [.text($0.0), .integer($0.1)] }
        let progress = BatchProgress(target: records)
        context.addListener(progress)

        let interval = Double(intervalMs)
        let now = Measure.epochMilliseconds()
        var wait = (floor(now / interval) + 1) * interval - leadMs - now
        if wait < 0 { wait += interval }
        try await Task.sleep(for: .milliseconds(wait))
        let startEpoch = Measure.epochMilliseconds()
        try context.start()
        try await progress.wait(timeout: .seconds(900))
        await context.stop(graceful: false)
        let summary = progress.summary
        // When the source was not ready for the first batch (empty), time
        // from lead ms before the first batch with records: a batch interval
        // of idle waiting is not the job's cost.
        let effectiveStart = max(startEpoch, Double(summary.firstDataBatchTime) - leadMs)
        let elapsed = (Double(summary.lastEnd) - effectiveStart) / 1000
        let commits = store.totals
        ChildReport.emit([
            "records": Double(summary.records),
            "seconds": elapsed,
            "recordsPerSecond": Double(summary.records) / elapsed,
            "commitSeconds": commits.seconds,
            "commits": Double(commits.commits),
            "commitShare": commits.seconds / elapsed,
            "distinctWords": Double(commits.rows),
            "countedWords": Double(store.lastCommittedTotal),
            "firstBatchRecords": Double(summary.firstBatchRecords),
            "batchesWithRecords": Double(summary.batches),
        ])
        (inner as? KafkaTransactionalStore)?.close()
        await (inner as? PostgresStore)?.close()
    }
}
