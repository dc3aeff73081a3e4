import Foundation
import Sluice
import SluiceKafka
import SluiceKafkaStream
import SluiceTesting
import XCTest

/// The planned offset ranges of the Kafka direct stream against the mock
/// cluster: contiguous, covering every record exactly once, capped by
/// maxRatePerPartition, and the same when planned again from the same start.
final class DirectStreamRangeTests: XCTestCase {
    func testRangesAreContiguousCappedAndCoverEveryRecordOnce() async throws {
        let total = 10_000
        let fixture = try KafkaStreamFixture(partitions: 4, count: total)
        var configuration = fixture.sourceConfiguration()
        configuration.maxRatePerPartition = 600  // 1 s batches: at most 600 records per partition
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let collector = BatchCollector()
        try collector.attach(driver.context.kafkaDirectStream(configuration))
        try driver.start()

        // 2,500 records per partition at 600 per batch: 5 batches, then empty ones.
        try await driver.runBatches(7)
        await driver.stop()

        let batches = collector.batches
        XCTAssertEqual(batches.count, 7)
        var next: [Int32: Int64] = [0: 0, 1: 0, 2: 0, 3: 0]
        var seenValues = Set<String>()
        for batch in batches {
            XCTAssertEqual(batch.ranges.count, 4, "one range per partition, also for empty batches")
            for range in batch.ranges {
                XCTAssertEqual(range.from, next[range.partition], "batch \(batch.time): \(range) starts where the previous ended")
                XCTAssertLessThanOrEqual(range.count, 600, "\(range) respects maxRatePerPartition")
                next[range.partition] = range.until
                let inRange = batch.records.filter { $0.partition == range.partition }
                XCTAssertEqual(inRange.map(\.offset), Array(range.from..<range.until), "records of \(range), in order")
            }
            for record in batch.records {
                XCTAssertTrue(seenValues.insert(record.valueString ?? "").inserted, "record \(record.offset) of partition \(record.partition) read twice")
            }
        }
        XCTAssertEqual(next, [0: 2_500, 1: 2_500, 2: 2_500, 3: 2_500])
        XCTAssertEqual(seenValues, Set((0..<total).map { "value-\($0)" }))
        XCTAssertEqual(batches.prefix(4).map { $0.records.count }, [2_400, 2_400, 2_400, 2_400])
        XCTAssertEqual(batches[4].records.count, 400)
        XCTAssertEqual(batches[5].records.count + batches[6].records.count, 0, "empty batches still run")
    }

    func testPlanningAgainFromTheSameStartGivesTheSameRanges() async throws {
        let fixture = try KafkaStreamFixture(partitions: 3, count: 3_000)
        func firstRanges(startingAt offsets: [KafkaTopicPartition: Int64]?) async throws -> [[OffsetRange]] {
            var configuration = fixture.sourceConfiguration()
            configuration.maxRatePerPartition = 250
            let source = KafkaDirectSource(configuration: configuration)
            if let offsets { source.resume(from: offsets) }
            let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
            let collector = BatchCollector()
            try collector.attach(driver.context.kafkaDirectStream(source))
            try driver.start()
            try await driver.runBatches(3)
            await driver.stop()
            return collector.batches.map(\.ranges)
        }
        let run1 = try await firstRanges(startingAt: nil)
        let start = Dictionary(uniqueKeysWithValues: fixture.allPartitions.map { ($0, Int64(250)) })
        let run2 = try await firstRanges(startingAt: start)
        let run3 = try await firstRanges(startingAt: start)
        XCTAssertEqual(run2, run3, "the same start plans the same ranges")
        XCTAssertEqual(Array(run1.dropFirst()), Array(run2.prefix(2)), "resuming at batch 1's until replans batches 2 and 3 exactly")
        XCTAssertEqual(run2.first?.map(\.from), [250, 250, 250])
    }

    func testRecoveredOffsetsBeatCommittedGroupOffsets() async throws {
        let fixture = try KafkaStreamFixture(partitions: 2, count: 400)
        let group = KafkaTestEnvironment.uniqueName("group")
        // Move the group's committed offsets somewhere else first.
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: fixture.bootstrap, groupID: group))
        try consumer.assign(Dictionary(uniqueKeysWithValues: fixture.allPartitions.map { ($0, KafkaStartOffset.beginning) }))
        try await consumer.commit(Dictionary(uniqueKeysWithValues: fixture.allPartitions.map { ($0, Int64(150)) }))
        try await consumer.close()

        func firstFroms(resume: [KafkaTopicPartition: Int64]?) async throws -> [Int64] {
            let source = KafkaDirectSource(configuration: fixture.sourceConfiguration(group: group))
            if let resume { source.resume(from: resume) }
            let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
            let collector = BatchCollector()
            try collector.attach(driver.context.kafkaDirectStream(source))
            try driver.start()
            try await driver.runBatches(1)
            await driver.stop()
            return collector.batches.first?.ranges.map(\.from) ?? []
        }
        let committed = try await firstFroms(resume: nil)
        XCTAssertEqual(committed, [150, 150], "without recovered offsets the group's committed offsets are the start")
        let recovered = try await firstFroms(resume: [fixture.allPartitions[0]: 10, fixture.allPartitions[1]: 20])
        XCTAssertEqual(recovered, [10, 20], "recovered offsets win over the group's")
    }

    func testCompletedBatchesCommitTheirUntilOffsetsToTheGroup() async throws {
        let fixture = try KafkaStreamFixture(partitions: 2, count: 1_000)
        let group = KafkaTestEnvironment.uniqueName("group")
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let collector = BatchCollector()
        try collector.attach(driver.context.kafkaDirectStream(fixture.sourceConfiguration(group: group)))
        try driver.start()
        try await driver.runBatches(2)
        await driver.stop()

        let checker = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: fixture.bootstrap, groupID: group))
        let committed = try checker.committed(fixture.allPartitions)
        try await checker.close()
        XCTAssertEqual(committed.values.compactMap { $0 }.sorted(), [500, 500])
    }

    func testAnUnknownTopicFailsTheStartNamingIt() async throws {
        let fixture = try KafkaStreamFixture(partitions: 1, count: 0)
        let configuration = KafkaSourceConfiguration(bootstrapServers: fixture.bootstrap, topics: ["no-such-topic"], groupID: "g")
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        try driver.context.kafkaDirectStream(configuration).foreachBatch { _, _, _ in }
        try driver.start()
        do {
            try await driver.context.awaitTermination()
            XCTFail("the context should fail")
        } catch {
            XCTAssertTrue("\(error)".contains("no-such-topic"), "\(error)")
        }
    }

    func testBadSettingsFailTheStartNamingTheSetting() async throws {
        var configuration = KafkaSourceConfiguration(bootstrapServers: "127.0.0.1:1", topics: ["t"], groupID: "g")
        configuration.maxRatePerPartition = -5
        let driver = try StreamTestDriver(batchInterval: .seconds(1))
        try driver.context.kafkaDirectStream(configuration).foreachBatch { _, _, _ in }
        try driver.start()
        do {
            try await driver.context.awaitTermination()
            XCTFail("the context should fail")
        } catch {
            XCTAssertTrue("\(error)".contains("maxRatePerPartition"), "\(error)")
        }
    }
}
