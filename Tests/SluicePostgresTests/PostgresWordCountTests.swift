import Foundation
import Sluice
import SluiceJobs
import SluiceKafka
import SluiceKafkaStream
import SluicePostgres
import SluicePostgresTesting
import SluiceTesting
import SluiceWorkloads
import XCTest

/// The word-count job with the PostgreSQL sink, in this process: stopped
/// and started again, and with the database stopped and restarted under it.
/// Each time the final table equals a plain count of the input.
final class PostgresWordCountTests: XCTestCase {
    /// `count` workload lines, produced round robin over `partitions`.
    private func input(count: Int, seed: UInt64, topic: String, cluster: MockCluster, partitions: Int32) throws -> [String] {
        var workload = Workload(format: .words, seed: seed)
        let lines = (0..<count).compactMap { _ in workload.next()?.value }
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        for (index, line) in lines.enumerated() {
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index) % partitions, value: Array(line.utf8)))
        }
        try producer.flush(timeout: .seconds(60))
        try producer.close()
        return lines
    }

    private func plainCount(_ lines: [String]) -> [String: Int64] {
        lines.reduce(into: [:]) { counts, line in
            for word in line.split(separator: " ") { counts[String(word), default: 0] += 1 }
        }
    }

    private func wordCount(_ cluster: MockCluster, topic: String, url: String) throws -> WordCountJob {
        var job = WordCountJob(bootstrapServers: cluster.bootstrapServers, topic: topic, job: "wc", sink: .postgres(url: url))
        job.partitions = [0, 1]
        job.maxRatePerPartition = 100
        job.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "wc")
        try job.createRepartitionTopics(on: cluster, partitions: 2)
        return job
    }

    /// Records of the input topic the batches read (not of the repartition topics).
    private func records(_ infos: [BatchInfo], of topic: String) -> Int {
        infos.reduce(0) { total, info in info.offsetRanges.filter { $0.topic == topic }.reduce(total) { $0 + Int($1.count) } }
    }

    /// Runs batches until job `wc` committed everything of its input and repartition topics.
    private func drain(_ driver: StreamTestDriver, url: String, topic: String, cluster: MockCluster) async throws {
        var topics = [topic: Int32(2)]
        for name in WordCountJob.repartitionTopics(job: "wc") { topics[name] = 2 }
        let store = try PostgresStore(url: url)
        try await driver.runBatches(until: {
            let committed = try await store.recover(job: "wc", partitions: topics.flatMap { topic, count in
                (0..<count).map { TaskID(topic: topic, partition: $0) }
            }, operators: []).offsets
            return try KafkaDrain.covers(committed, topics: topics, bootstrap: cluster.bootstrapServers)
        })
        await store.close()
    }

    func testRestartResumesFromThePostgresSinkIgnoringTheGroupOffsets() async throws {
        let url = try runningPostgresServer().makeDatabase("wordcount")
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 2)
        let lines = try input(count: 800, seed: 21, topic: topic, cluster: cluster, partitions: 2)

        let first = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try await wordCount(cluster, topic: topic, url: url).define(on: first.context)
        try first.start()
        try await first.runBatches(2)
        await first.stop(graceful: false)
        let readFirst = records(first.completedInfos, of: topic)
        XCTAssertGreaterThan(readFirst, 0, "the first run read something")
        XCTAssertLessThan(readFirst, 800, "and stopped before the end")

        // Move the group's committed offsets back to 0: the job must ignore them.
        let mover = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "wc"))
        try await mover.commit([KafkaTopicPartition(topic: topic, partition: 0): 0, KafkaTopicPartition(topic: topic, partition: 1): 0])
        try await mover.close()

        let second = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try await wordCount(cluster, topic: topic, url: url).define(on: second.context)
        try second.start()
        try await second.runBatches(4)
        try await drain(second, url: url, topic: topic, cluster: cluster)
        await second.stop(graceful: false)
        let secondRanges = second.completedInfos.flatMap(\.offsetRanges).filter { $0.count > 0 && $0.topic == topic }
        XCTAssertFalse(secondRanges.contains { $0.from == 0 }, "the second run starts from the sink's offsets: \(secondRanges)")
        XCTAssertEqual(readFirst + records(second.completedInfos, of: topic), 800, "every record read exactly once over both runs")

        let store = try PostgresStore(url: url)
        let totals = try await store.counts()
        XCTAssertEqual(totals, plainCount(lines))
        await store.close()
    }

    func testADatabaseOutageAndRestartDuringARunRetryTheBatchAndChangeNothing() async throws {
        let server = try runningPostgresServer()
        defer { try? server.ensureRunning() }
        let url = try server.makeDatabase("outage")
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 2)
        let lines = try input(count: 1_200, seed: 22, topic: topic, cluster: cluster, partitions: 2)

        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(40))
        try await wordCount(cluster, topic: topic, url: url).define(on: driver.context)
        try driver.start()
        try await driver.runBatches(2)

        // The database goes away while batch 3 is computed and committed.
        try server.stop()
        let third = Task { try await driver.runBatches(1) }
        try await Task.sleep(for: .milliseconds(1_500))  // the outage's length, not a wait for something
        XCTAssertEqual(driver.completedBatches.count, 2, "batch 3 waits for the database instead of completing without it")
        try server.start()
        try await third.value

        // An operator's restart between batches: the idle connection is gone.
        try server.restart()
        try await driver.runBatches(3)
        try await drain(driver, url: url, topic: topic, cluster: cluster)
        await driver.stop(graceful: false)

        XCTAssertEqual(records(driver.completedInfos, of: topic), 1_200, "every record read once")
        let store = try PostgresStore(url: url)
        let totals = try await store.counts()
        XCTAssertEqual(totals, plainCount(lines), "results equal a plain count")
        let recovered = try await store.recover(job: "wc", table: WordCountJob.table)
        XCTAssertEqual(recovered.lastBatchTime, driver.completedBatches.last, "every batch committed")
        XCTAssertEqual(recovered.offsets.filter { $0.topic == topic }.reduce(0) { $0 + $1.offset }, 1_200)
        await store.close()
    }
}
