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
