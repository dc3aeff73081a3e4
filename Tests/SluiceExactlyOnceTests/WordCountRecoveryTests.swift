import Foundation
import GRDB
import Sluice
import SluiceJobs
import SluiceKafka
import SluiceKafkaStream
import SluiceSQLite
import SluiceTesting
import SluiceWorkloads
import XCTest

/// The word-count job with the SQLite sink, stopped and started again in
/// the same process: it resumes from the sink's offsets and state, and the
/// final table equals a straightforward count of the input.
final class WordCountRecoveryTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-eo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Record timestamps: line i was written at `baseTime + 7·i` ms.
    private let baseTime: Int64 = 1_767_225_600_000

    /// Lines produced to the topic, round robin over partitions.
    private func produceLines(_ lines: [[UInt8]], to topic: String, cluster: MockCluster, partitions: Int32) throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        for (index, line) in lines.enumerated() {
            try producer.send(KafkaProducerMessage(
                topic: topic, partition: Int32(index % Int(partitions)), value: line, timestamp: baseTime + 7 * Int64(index)))
        }
        try producer.flush(timeout: .seconds(60))
        try producer.close()
    }

    private func expectedCounts(_ lines: [String]) -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for line in lines {
            for word in line.split(separator: " ") { counts[String(word), default: 0] += 1 }
        }
        return counts
    }

    /// Words per one-second window of record time, counted plainly.
    private func expectedWordsPerSecond(_ lines: [String]) -> [Int64: Int64] {
        var counts: [Int64: Int64] = [:]
        for (index, line) in lines.enumerated() {
            let time = baseTime + 7 * Int64(index)
            counts[time - time % 1_000, default: 0] += Int64(line.split(separator: " ").count)
        }
        return counts
    }

    private func tableWordsPerSecond(_ path: String) throws -> [Int64: Int64] {
        try SQLiteStore(path: path).read { db in
            var counts: [Int64: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT window_start, window_end, words FROM words_per_second") {
                let start: Int64 = row["window_start"]
                let end: Int64 = row["window_end"]
                if end == start + 1_000 { counts[start] = row["words"] }
            }
            return counts
        }
    }

    private func tableCounts(_ path: String) throws -> [String: Int64] {
        let store = try SQLiteStore(path: path)
        return try store.read { db in
            var counts: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT word, count FROM word_counts") { counts[row["word"]] = row["count"] }
            return counts
        }
    }

    private func job(_ cluster: MockCluster, topic: String, path: String, partitions: Int32 = 2) throws -> WordCountJob {
        var job = WordCountJob(bootstrapServers: cluster.bootstrapServers, topic: topic, job: "wc", sink: .sqlite(path: path))
        job.partitions = Array(0..<partitions)
        job.maxRatePerPartition = 100
        job.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "wc")
        try job.createRepartitionTopics(on: cluster, partitions: partitions)
        return job
    }

    /// Runs `batches` batches; with `drain`, then more until the job has
    /// committed everything of its input and repartition topics (bounded).
    /// Returns the driver's infos.
    private func run(_ job: WordCountJob, batches: Int, partitions: Int32 = 2, drain: Bool = true) async throws -> [BatchInfo] {
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try await job.define(on: driver.context)
        try driver.start()
        try await driver.runBatches(batches)
        if drain {
            var topics = [job.topic: partitions]
            for name in WordCountJob.repartitionTopics(job: job.job) { topics[name] = partitions }
            try await driver.runBatches(until: {
                try KafkaDrain.covers(try committed(job), topics: topics, bootstrap: job.bootstrapServers)
            })
        }
        await driver.stop(graceful: false)
        return driver.completedInfos
    }

    private func committed(_ job: WordCountJob) throws -> [SourceOffset] {
        guard case .sqlite(let path) = job.sink else { return [] }
        return try SQLiteStore(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM sluice_offsets WHERE job = ?", arguments: [job.job])
                .map { SourceOffset(topic: $0["topic"], partition: $0["partition"], offset: $0["next_offset"]) }
        }
    }

    /// Records of `topic` the batches read.
    private func read(_ infos: [BatchInfo], of topic: String) -> Int64 {
        infos.flatMap(\.offsetRanges).filter { $0.topic == topic }.reduce(0) { $0 + $1.count }
    }

    func testRestartResumesFromTheSinkIgnoringTheGroupOffsets() async throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 2)
        var workload = Workload(format: .words, seed: 11)
        let lines = (0..<800).compactMap { _ in workload.next()?.value }
        try produceLines(lines.map { Array($0.utf8) }, to: topic, cluster: cluster, partitions: 2)
        let path = directory.appendingPathComponent("wc.db").path

        // First run: 100 records per partition per batch, 2 batches of 4.
        let first = try await run(try job(cluster, topic: topic, path: path), batches: 2, drain: false)
        let readFirst = read(first, of: topic)
        XCTAssertGreaterThan(readFirst, 0, "the first run read something")
        XCTAssertLessThan(readFirst, 800, "and stopped before the end")

        // Move the group's committed offsets back to 0: the job must ignore them.
        let mover = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "wc"))
        try await mover.commit([KafkaTopicPartition(topic: topic, partition: 0): 0, KafkaTopicPartition(topic: topic, partition: 1): 0])
        try await mover.close()

        let second = try await run(try job(cluster, topic: topic, path: path), batches: 4)
        let secondRanges = second.flatMap(\.offsetRanges).filter { $0.count > 0 && $0.topic == topic }
        XCTAssertFalse(secondRanges.contains { $0.from == 0 }, "the second run starts from the sink's offsets: \(secondRanges)")
        XCTAssertEqual(readFirst + secondRanges.reduce(0) { $0 + $1.count }, 800, "every record read exactly once over both runs")
        XCTAssertEqual(try tableCounts(path), expectedCounts(lines))
        XCTAssertEqual(try tableWordsPerSecond(path), expectedWordsPerSecond(lines), "the event-time window counts survive the restart too")
    }

    func testUndecodableRecordsGoToDeadLettersAndResultsMatchTheRunWithoutThem() async throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 1)
        var workload = Workload(format: .words, seed: 12)
        let good = (0..<150).compactMap { _ in workload.next()?.value }
        var input: [[UInt8]] = good.map { Array($0.utf8) }
        let badOffsets: [Int] = [7, 70, 140]
        for offset in badOffsets { input.insert([0x66, 0xFF, 0xFE, 0x20, 0x67], at: offset) }
        try produceLines(input, to: topic, cluster: cluster, partitions: 1)
        let path = directory.appendingPathComponent("dl.db").path

        var wordCount = try job(cluster, topic: topic, path: path, partitions: 1)
        wordCount.maxRatePerPartition = 0
        _ = try await run(wordCount, batches: 6, partitions: 1)

        XCTAssertEqual(try tableCounts(path), expectedCounts(good))
        struct Letter: Sendable { var topic: String; var partition: Int64; var offset: Int64; var error: String }
        let letters = try SQLiteStore(path: path).read { db in
            try Row.fetchAll(db, sql: #"SELECT topic, partition, "offset", error FROM sluice_dead_letters WHERE job = 'wc' ORDER BY "offset""#)
                .map { Letter(topic: $0["topic"], partition: $0["partition"], offset: $0["offset"], error: $0["error"]) }
        }
        XCTAssertEqual(letters.map(\.offset), badOffsets.map(Int64.init))
        XCTAssertTrue(letters.allSatisfy { $0.topic == topic && $0.partition == 0 })
        XCTAssertTrue(letters.allSatisfy { $0.error.contains("UTF-8") })
    }

    func testChangedStateTypesFailAtStartNamingTheOperator() async throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 1)
        try produceLines([Array("a b a".utf8)], to: topic, cluster: cluster, partitions: 1)
        let path = directory.appendingPathComponent("types.db").path
        _ = try await run(try job(cluster, topic: topic, path: path, partitions: 1), batches: 2, partitions: 1)

        // The same job name and operator name, but String state instead of Int64.
        let driver = try StreamTestDriver(batchInterval: .seconds(1))
        var source = KafkaSourceConfiguration(bootstrapServers: cluster.bootstrapServers, topics: [topic], groupID: "wc")
        source.startingPosition = .earliest
        let totals = driver.context.kafkaDirectStream(source)
            .map { ($0.valueString ?? "", "x") }
            .updateStateByKey(name: "word-totals") { (values: [String], state: String?) -> String? in (state ?? "") + values.joined() }
        do {
            try await totals.saveExactlyOnce(to: try SQLiteStore(path: path), job: "wc", table: WordCountJob.table) {
                [.text($0.0), .integer(Int64($0.1.count))]
            }
            XCTFail("recovery should refuse the changed state")
        } catch let error as StreamingError {
            XCTAssertEqual(error.code, .stateIncompatible)
            XCTAssertTrue(error.message.contains("word-totals"), error.message)
            XCTAssertTrue(error.message.contains("sluice reset"), error.message)
        }
    }

    func testInitialStateIsStoredWithTheFirstBatchAndRecovered() async throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 1)
        try produceLines([Array("a b".utf8)], to: topic, cluster: cluster, partitions: 1)
        let path = directory.appendingPathComponent("initial.db").path
        func run(initial: [String: Int64]) async throws -> [String: Int64] {
            let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
            var source = KafkaSourceConfiguration(
                bootstrapServers: cluster.bootstrapServers, subscription: .partitions([KafkaTopicPartition(topic: topic, partition: 0)]), groupID: "init")
            source.startingPosition = .earliest
            let totals = driver.context.kafkaDirectStream(source)
                .flatMap { ($0.valueString ?? "").split(separator: " ").map { (String($0), Int64(1)) } }
                .updateStateByKey(name: "totals", initialState: initial) { (values: [Int64], total: Int64?) -> Int64? in
                    (total ?? 0) + values.reduce(0, +)
                }
            try await totals.saveExactlyOnce(to: try SQLiteStore(path: path), job: "init", table: "totals", keyColumn: "word", valueColumn: "count")
            try driver.start()
            try await driver.runBatches(2)
            await driver.stop()
            return try SQLiteStore(path: path).read { db in
                var counts: [String: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT word, count FROM totals") { counts[row["word"]] = row["count"] }
                return counts
            }
        }
        let first = try await run(initial: ["seed": 5, "a": 10])
        XCTAssertEqual(first, ["seed": 5, "a": 11, "b": 1])
        // The second run's initial state is ignored: the stored state wins, nothing is read twice.
        let second = try await run(initial: ["seed": 999])
        XCTAssertEqual(second, ["seed": 5, "a": 11, "b": 1])
    }

    func testASocketStreamCannotBeSavedExactlyOnce() async throws {
        let driver = try StreamTestDriver(batchInterval: .seconds(1))
        let counts = driver.context.socketTextStream(host: "127.0.0.1", port: 9).map { ($0, Int64(1)) }
        do {
            try await counts.saveExactlyOnce(to: try SQLiteStore(path: directory.appendingPathComponent("s.db").path), job: "s", table: "t")
            XCTFail("should refuse")
        } catch {
            XCTAssertTrue("\(error)".contains("cannot replay"), "\(error)")
        }
    }
}
