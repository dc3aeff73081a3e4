import Foundation
import GRDB
import Sluice
import SluiceJobs
import SluiceKafka
import SluiceSQLite
import SluiceTesting
import SluiceWorkloads
import XCTest

/// Faults during an exactly-once run — the broker going down and coming
/// back, injected Fetch, ListOffsets and OffsetCommit errors — leave the
/// results identical to a plain count of the input.
final class WordCountFaultTests: XCTestCase {
    func testBrokerOutageAndInjectedErrorsChangeNothing() async throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("words")
        try cluster.createTopic(topic, partitions: 2)
        var workload = Workload(format: .words, seed: 21)
        let lines = (0..<1_200).compactMap { _ in workload.next()?.value }
        try produce(lines, to: topic, bootstrap: cluster.bootstrapServers)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-faults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("faults.db").path

        var job = WordCountJob(bootstrapServers: cluster.bootstrapServers, topic: topic, job: "faults", sink: .sqlite(path: path))
        job.partitions = [0, 1]
        job.maxRatePerPartition = 100
        job.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: "faults")
        try job.createRepartitionTopics(on: cluster, partitions: 2)
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(60))
        try await job.define(on: driver.context)
        try driver.start()

        try await driver.runBatches(1)
        // Retriable errors on the requests the job makes: fetches, end-of-log
        // queries and its advisory group commits.
        let notLeader = KafkaError.Code(rawValue: 6), timedOut = KafkaError.Code(rawValue: 7)
        let coordinatorUnavailable = KafkaError.Code(rawValue: 15)
        cluster.pushRequestErrors(.fetch, [notLeader, timedOut, timedOut])
        cluster.pushRequestErrors(.listOffsets, [notLeader, timedOut])
        cluster.pushRequestErrors(.offsetCommit, [coordinatorUnavailable, coordinatorUnavailable])
        try await driver.runBatches(2)

        // The broker goes down; it comes back while the next batch waits for its records.
        try cluster.setBrokerDown(1)
        let revive = Task {
            try await Task.sleep(for: .seconds(2))
            try cluster.setBrokerUp(1)
        }
        try await driver.runBatches(2)
        try await revive.value
        try await driver.runBatches(6)
        // Until the pairs the job wrote to its repartition topics are counted too.
        var topics = [topic: Int32(2)]
        for name in WordCountJob.repartitionTopics(job: "faults") { topics[name] = 2 }
        try await driver.runBatches(until: {
            let committed = try SQLiteStore(path: path).read { db in
                try Row.fetchAll(db, sql: "SELECT topic, partition, next_offset FROM sluice_offsets WHERE job = 'faults'")
                    .map { SourceOffset(topic: $0["topic"], partition: $0["partition"], offset: $0["next_offset"]) }
            }
            return try KafkaDrain.covers(committed, topics: topics, bootstrap: cluster.bootstrapServers)
        })
        await driver.stop(graceful: true)

        let read = driver.completedInfos.flatMap(\.offsetRanges).filter { $0.topic == topic }.reduce(0) { $0 + $1.count }
        XCTAssertEqual(read, 1_200, "every record read exactly once")
        var expected: [String: Int64] = [:]
        for line in lines { for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 } }
        let actual = try SQLiteStore(path: path).read { db in
            var counts: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT word, count FROM word_counts") { counts[row["word"]] = row["count"] }
            return counts
        }
        XCTAssertEqual(actual, expected)
    }

    private func produce(_ lines: [String], to topic: String, bootstrap: String) throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: bootstrap))
        for (index, line) in lines.enumerated() {
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index % 2), key: nil, value: line))
        }
        try producer.flush()
        try producer.close()
    }
}
