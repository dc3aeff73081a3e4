import Foundation
import SluiceKafka
import SluiceWorkloads
import XCTest

/// The exactly-once invariant with real processes, for any sink of
/// `sluice run wordcount`: `sluice broker` holds a fixed input; the job is
/// killed with SIGKILL at random moments and restarted each time; the final
/// table must equal a plain count of the input — nothing lost, nothing
/// counted twice.
struct WordCountCrashTest {
    /// Reads the whole input back and counts words per one-second window of
    /// record timestamp.
    func wordsPerSecondOfInput(bootstrap: String) throws -> [Int64: Int64] {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: bootstrap)
        configuration.autoOffsetReset = .earliest
        let consumer = try KafkaConsumer(configuration: configuration)
        defer { try? consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: (Int32(0)..<4).map { (KafkaTopicPartition(topic: "words", partition: $0), KafkaStartOffset.beginning) }))
        var counts: [Int64: Int64] = [:]
        var read = 0
        let deadline = ContinuousClock.now + .seconds(120)
        while read < records && ContinuousClock.now < deadline {
            for record in try consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200)) {
                read += 1
                let time = record.timestamp?.milliseconds ?? 0
                counts[time - time % 1_000, default: 0] += Int64((record.valueString ?? "").split(separator: " ").count)
            }
        }
        return counts
    }


    var records = 200_000
    var seed: UInt64 = 2026
    var kills = 22
    /// Seeds the kill moments.
    var killSeed: UInt64 = 99
    /// The job's batch interval (`--interval`).
    var interval = "100ms"
    /// `--max-rate-per-partition`: records per partition per second.
    var maxRatePerPartition = 5_000
    /// The job's name in the sink.
    static let job = "crash"

    /// Runs the test against the sink that `sinkArgument` (`--sink`) names.
    /// - Parameters:
    ///   - committed: the sum of job `crash`'s committed next offsets over
    ///     a topic's partitions in the sink (the records of `words`, all
    ///     partitions starting at 0); 0 before the sink exists.
    ///   - counts: the sink's `word_counts` table.
    ///   - wordsPerSecond: the sink's `words_per_second` table, window start → words.
    func run(
        sinkArgument: String,
        committed: (_ topic: String) async throws -> Int,
        counts: () async throws -> [String: Int64],
        wordsPerSecond: () async throws -> [Int64: Int64]
    ) async throws {
        // The embedded cluster cannot create the job's repartition topics on request.
        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "words:4",
                                        "--topic", "\(Self.job)-words-repartition:4", "--topic", "\(Self.job)-words-per-second-repartition:4"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }

        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "words", "--count", "\(records)",
                                         "--seed", "\(seed)", "--compression", "lz4"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(180)), 0, produce.standardError)
        // The embedded cluster drops old data beyond ~5 MB a partition: make sure it kept everything.
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        for partition in Int32(0)..<4 {
            XCTAssertEqual(try admin.watermarks(of: KafkaTopicPartition(topic: "words", partition: partition)).low, 0,
                           "partition \(partition) kept all its records")
        }

        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "words", "--sink", sinkArgument,
                   "--job", Self.job, "--assign", "--interval", interval, "--max-rate-per-partition", "\(maxRatePerPartition)",
                   "--log-level", "info"]

        var random = SeededGenerator(seed: killSeed)
        var log: [String] = []
        for kill in 1...kills {
            let runner = try SluiceProcess(job)
            // Odd kills count from the start (start-up, recovery, first
            // batch); even ones from the run's first commit, so that they
            // land in the steady state, often inside a commit.
            var since = "start"
            if kill % 2 == 0 {
                // A batch's progress line comes once its outputs, the commit
                // among them, ran.
                since = "first commit"
                _ = runner.waitForOutput(timeout: .seconds(60)) { _, log in SluiceProcess.recordsLogged(log) > 0 }
            }
            let delay = 0.15 + Double(random.below(1_200)) / 1_000
            try await Task.sleep(for: .milliseconds(Int(delay * 1_000)))  // the kill's random moment
            runner.signal(SIGKILL)
            _ = try runner.waitForExit(timeout: .seconds(10))
            let committed = try await committed("words")
            log.append("kill \(kill) \(Int(delay * 1000)) ms after \(since): \(committed) records committed")
            if committed >= records { break }
        }
        print("crash test (\(sinkArgument)):\n" + log.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(log.count, 20, "at least 20 kills happened before the input ran out")

        // Let the last run finish the input and what it repartitioned (the
        // repartition topics committed up to their ends), then stop it cleanly.
        let last = try SluiceProcess(job)
        func drained() async throws -> Bool {
            guard try await committed("words") >= records else { return false }
            for topic in ["\(Self.job)-words-repartition", "\(Self.job)-words-per-second-repartition"] {
                let written = try (Int32(0)..<4).reduce(0) { $0 + Int(try admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: $1)).high) }
                guard try await committed(topic) == written else { return false }
            }
            return true
        }
        let deadline = ContinuousClock.now + .seconds(240)
        while try await !drained(), ContinuousClock.now < deadline {
            // Until its next progress line (a batch committed) or a second.
            let seen = last.standardError.count
            _ = last.waitForOutput(timeout: .seconds(1)) { _, log in log.count > seen }
        }
        last.signal(SIGTERM)
        XCTAssertEqual(try last.waitForExit(timeout: .seconds(30)), 0, last.standardError)
        let committedInput = try await committed("words")
        XCTAssertEqual(committedInput, records, "every record committed")

        var expected: [String: Int64] = [:]
        var workload = Workload(format: .words, seed: seed)
        for _ in 0..<records {
            guard let line = workload.next()?.value else { break }
            for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 }
        }
        let actual = try await counts()
        XCTAssertEqual(actual.count, expected.count, "same words")
        let wrong = expected.filter { actual[$0.key] != $0.value }
        XCTAssertTrue(wrong.isEmpty, "\(wrong.count) words with wrong counts, e.g. \(wrong.prefix(5).map { "\($0.key): expected \($0.value), got \(actual[$0.key] ?? 0)" })")

        // The windowed count: words per second of record timestamp, counted
        // plainly from the records read back.
        let expectedPerSecond = try wordsPerSecondOfInput(bootstrap: bootstrap)
        let actualPerSecond = try await wordsPerSecond()
        XCTAssertEqual(expectedPerSecond.values.reduce(0, +), expected.values.reduce(0, +), "the input read back has every word")
        XCTAssertEqual(actualPerSecond, expectedPerSecond, "words per second of record time")
    }
}
