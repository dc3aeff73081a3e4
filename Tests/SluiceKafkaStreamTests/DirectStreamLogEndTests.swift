import Foundation
import Sluice
import SluiceKafka
@testable import SluiceKafkaStream
import SluiceTesting
import XCTest

/// Plans whose end of log comes from the fetch responses instead of a
/// ListOffsets round trip keep the ranges' guarantees, and a partition whose
/// cached end cannot move (paused) is asked of its leader.
final class DirectStreamLogEndTests: XCTestCase {
    func testCaughtUpPlansAskNoLeaderAndStillCoverEveryRecordOnce() async throws {
        for isolation in KafkaIsolationLevel.allCases {
            let fixture = try KafkaStreamFixture(partitions: 2, count: 400)
            var configuration = fixture.sourceConfiguration()
            configuration.isolationLevel = isolation
            let source = KafkaDirectSource(configuration: configuration)
            let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
            let collector = BatchCollector()
            try collector.attach(driver.context.kafkaDirectStream(source))
            try driver.start()

            try await driver.runBatches(1)
            XCTAssertEqual(collector.recordCount, 400, "\(isolation): the first plan reads everything")
            // Partitions not fetched yet when the first plan ran were asked.
            let askedFirst = source.partitionEndsAskedOfLeaders
            try await driver.runBatches(3)
            XCTAssertEqual(source.partitionEndsAskedOfLeaders, askedFirst,
                           "\(isolation): caught-up partitions take their end from the fetch responses")

            // New records: the fetch responses that carry them also carry the new end.
            try fixture.produce(count: 400, startingAt: 400)
            let deadline = ContinuousClock.now + .seconds(20)
            while collector.recordCount < 800 && ContinuousClock.now < deadline {
                try await driver.runBatches(1)
                if collector.batches.last?.records.isEmpty == true {
                    // Planned before the fetch brought the new records (and the new end).
                    _ = await source.waitForFetchedRecords(timeout: .seconds(5))
                }
            }
            await driver.stop()

            var next: [Int32: Int64] = [0: 0, 1: 0]
            var seen = Set<String>()
            for batch in collector.batches {
                for range in batch.ranges {
                    XCTAssertEqual(range.from, next[range.partition], "\(isolation), batch \(batch.time): \(range) starts where the previous ended")
                    next[range.partition] = range.until
                    let inRange = batch.records.filter { $0.partition == range.partition }
                    XCTAssertEqual(inRange.map(\.offset), Array(range.from..<range.until), "\(isolation): records of \(range)")
                }
                for record in batch.records {
                    XCTAssertTrue(seen.insert(record.valueString ?? "").inserted, "\(isolation): \(record.offset) of \(record.partition) read twice")
                }
            }
            XCTAssertEqual(next, [0: 400, 1: 400], "\(isolation)")
            XCTAssertEqual(seen, Set((0..<800).map { "value-\($0)" }), "\(isolation)")
        }
    }

    func testAPausedPartitionsEndIsAskedOfItsLeader() async throws {
        let fixture = try KafkaStreamFixture(partitions: 1, count: 100)
        var configuration = fixture.sourceConfiguration()
        configuration.isolationLevel = .readUncommitted
        // 10 records a batch; the fetch thread pauses the partition above 10 buffered.
        configuration.maxRatePerPartition = 10
        configuration.maxBufferedRecordsPerPartition = 10
        let source = KafkaDirectSource(configuration: configuration)
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let collector = BatchCollector()
        try collector.attach(driver.context.kafkaDirectStream(source))
        try driver.start()
        try await driver.runBatches(1)
        XCTAssertEqual(collector.batches.first?.ranges.map(\.until), [10])
        let pausedAfterFirst = source.isPausedForBuffer(fixture.allPartitions[0])
        XCTAssertTrue(pausedAfterFirst, "90 records still buffered: paused")

        // The log grows while the partition is paused: no fetch response reports it.
        try fixture.produce(count: 50, startingAt: 100)
        let asked = source.partitionEndsAskedOfLeaders
        try await driver.runBatches(1)
        await driver.stop()
        XCTAssertEqual(source.partitionEndsAskedOfLeaders, asked + 1)
        XCTAssertEqual(collector.batches.last?.ranges.map(\.until), [20])
        XCTAssertEqual(driver.completedInfos.last?.inputs.first?.partitionLag.map(\.lag), [130],
                       "the lag counts from the log's current end (150), not the end cached before the pause (100)")
    }
}
