import SluiceKafka
import XCTest
@testable import SluiceKafkaStream

/// The read-ahead buffer of the direct stream: reads of consecutive batches
/// may overlap, so taking a later range must leave an earlier one's records.
final class FetchedRecordsTests: XCTestCase {
    private let partition = KafkaTopicPartition(topic: "t", partition: 0)

    private func records(_ offsets: Range<Int64>) -> [KafkaRecord] {
        offsets.map { KafkaRecord(topic: "t", partition: 0, offset: $0, value: Array("v\($0)".utf8)) }
    }

    func testTakingALaterRangeFirstKeepsTheEarlierRangesRecords() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([partition])
        _ = fetched.append(records(0..<10))
        let later = fetched.take(partition, from: 5, until: 10)
        XCTAssertEqual(later.records.map(\.offset), Array(5..<10))
        let earlier = fetched.take(partition, from: 0, until: 5)
        XCTAssertEqual(earlier.records.map(\.offset), Array(0..<5), "batch k's records survive batch k+1's read")
        XCTAssertTrue(earlier.complete)
        XCTAssertTrue(fetched.take(partition, from: 0, until: 10).records.isEmpty, "each record is taken once")
    }

    func testARangeIsCompleteOnlyOnceEveryOffsetBelowItsEndWasSeen() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([partition])
        _ = fetched.append(records(0..<3))
        let partial = fetched.take(partition, from: 0, until: 5)
        XCTAssertEqual(partial.records.count, 3)
        XCTAssertFalse(partial.complete)
        // A transaction marker at offset 3 and record 4: the position moves past both.
        _ = fetched.append(records(4..<5))
        let rest = fetched.take(partition, from: 3, until: 5)
        XCTAssertEqual(rest.records.map(\.offset), [4])
        XCTAssertTrue(rest.complete)
    }

    func testAFullPartitionIsPausedAndResumedOnceDrained() {
        let fetched = FetchedRecords(maxHeldPerPartition: 10)
        fetched.track([partition])
        XCTAssertEqual(fetched.append(records(0..<12)), [partition], "pause above the limit")
        let take = fetched.take(partition, from: 0, until: 8)
        XCTAssertTrue(take.resume, "resume once below half")
    }
}

/// Held records are slices of the polls' batches; these check the slicing.
final class FetchedRecordSegmentsTests: XCTestCase {
    private let p0 = KafkaTopicPartition(topic: "t", partition: 0)
    private let p1 = KafkaTopicPartition(topic: "t", partition: 1)

    private func record(_ partition: Int32, _ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: "t", partition: partition, offset: offset, value: Array("\(partition)/\(offset)".utf8))
    }

    func testInterleavedPartitionsOfOnePollLandInTheirOwnPartitions() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([p0, p1])
        var poll: [KafkaRecord] = []
        for offset in 0..<20 as Range<Int64> { poll.append(record(offset % 3 == 0 ? 1 : 0, offset)) }
        _ = fetched.append(poll)
        let expected0 = poll.filter { $0.partition == 0 }.map(\.offset)
        let expected1 = poll.filter { $0.partition == 1 }.map(\.offset)
        XCTAssertEqual(fetched.take(p0, from: 0, until: 20).records.map(\.offset), expected0)
        let ones = fetched.take(p1, from: 0, until: 20).records
        XCTAssertEqual(ones.map(\.offset), expected1)
        XCTAssertEqual(ones.map { String(decoding: $0.value, as: UTF8.self) }, expected1.map { "1/\($0)" })
    }

    func testARefetchAfterASeekBackwardsReplacesTheRecordsFromThere() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([p0])
        _ = fetched.append((0..<5).map { record(0, $0) })
        _ = fetched.append((5..<10).map { record(0, $0) })
        _ = fetched.append((3..<12).map { record(0, $0) })  // fetched again from 3
        XCTAssertEqual(fetched.take(p0, from: 0, until: 12).records.map(\.offset), Array(0..<12), "each offset once, in order")
    }

    func testARangeInsideOneSegmentLeavesBothSides() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([p0])
        _ = fetched.append((0..<10).map { record(0, $0) })
        XCTAssertEqual(fetched.take(p0, from: 4, until: 7).records.map(\.offset), [4, 5, 6])
        XCTAssertEqual(fetched.take(p0, from: 0, until: 4).records.map(\.offset), [0, 1, 2, 3])
        XCTAssertEqual(fetched.take(p0, from: 7, until: 10).records.map(\.offset), [7, 8, 9])
        XCTAssertTrue(fetched.take(p0, from: 0, until: 10).records.isEmpty)
    }
}

/// After a seek back, the position librdkafka reported before the seek must
/// not mark the seek's range as seen before its records are fetched again.
final class FetchedRecordsSeekTests: XCTestCase {
    private let partition = KafkaTopicPartition(topic: "t", partition: 0)

    func testThePositionFromBeforeASeekDoesNotCompleteTheRangeUntilARecordArrives() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([partition])
        fetched.reset(partition, seekedTo: 0, positionBeforeSeek: 10)
        fetched.updatePositions([partition: 10])
        let early = fetched.take(partition, from: 0, until: 10)
        XCTAssertFalse(early.complete, "the stale position does not count")
        XCTAssertTrue(early.records.isEmpty)

        _ = fetched.append((0..<10).map { KafkaRecord(topic: "t", partition: 0, offset: $0, value: [UInt8($0)]) })
        fetched.updatePositions([partition: 10])
        let all = fetched.take(partition, from: 0, until: 10)
        XCTAssertEqual(all.records.map(\.offset), Array(0..<10))
        XCTAssertTrue(all.complete)
    }

    func testAPositionPastTheSeekThatIsNotTheOldOneCounts() {
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([partition])
        fetched.reset(partition, seekedTo: 0, positionBeforeSeek: 10)
        fetched.updatePositions([partition: 3])  // past transaction markers, say
        XCTAssertTrue(fetched.take(partition, from: 0, until: 3).complete)
    }
}

/// Waits for fetched records, per partition.
final class FetchedRecordsWakeupTests: XCTestCase {
    private let partition = KafkaTopicPartition(topic: "t", partition: 0)

    /// A read waiting for one partition sleeps through the records and
    /// positions of others (eight readers used to wake, and take the fetch
    /// thread's lock, on every poll); its own records, and a wake-all, wake it.
    func testAWaiterForOnePartitionIsWokenOnlyByThatPartition() async throws {
        let own = partition
        let other = KafkaTopicPartition(topic: "t", partition: 1)
        let fetched = FetchedRecords(maxHeldPerPartition: 1_000)
        fetched.track([own, other])
        for wake in ["own records", "own position", "wake all"] {
            let version = fetched.take(partition, from: 0, until: 100).version
            let waiter = Task { await fetched.waitForChange(of: own, after: version) }
            try await waitUntil { fetched.waiterCount == 1 }
            _ = fetched.append([KafkaRecord(topic: "t", partition: 1, offset: 0, value: [1])])
            fetched.updatePositions([other: 5])
            XCTAssertEqual(fetched.waiterCount, 1, "\(wake): woken by the other partition")
            switch wake {
            case "own records": _ = fetched.append([KafkaRecord(topic: "t", partition: 0, offset: 0, value: [1])])
            case "own position": fetched.updatePositions([partition: 7])
            default: fetched.wakeAll()
            }
            await waiter.value
            XCTAssertEqual(fetched.waiterCount, 0, wake)
            fetched.reset(other)
        }
    }

    /// Waits (yielding, bounded) until `condition` holds.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                XCTFail("condition not reached within 10 s")
                throw CancellationError()
            }
            await Task.yield()
        }
    }
}
