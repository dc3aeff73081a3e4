import SluiceKafka
@testable import SluiceKafkaStream
import XCTest

/// Where a plan takes each partition's end of log from: the watermarks of
/// the fetch responses when they are current, and under read_committed
/// only offsets proven within the last stable offset; the leader when
/// nothing usable is known.
final class LogEndChoiceTests: XCTestCase {
    private func local(high: Int64?, position: Int64?, from: Int64, asked: Int64? = nil, fetching: Bool = true) -> LogEndChoice.Local {
        LogEndChoice.Local(cached: high.map { KafkaWatermarks(low: 3, high: $0) }, position: position, from: from, asked: asked, isFetching: fetching)
    }

    private func mark(_ high: Int64) -> KafkaWatermarks { KafkaWatermarks(low: 3, high: high) }

    func testUnknownOrPausedPartitionsAskTheLeader() {
        for isolation in KafkaIsolationLevel.allCases {
            XCTAssertEqual(LogEndChoice.choose(local(high: nil, position: nil, from: 0), isolation: isolation), .askLeader,
                           "\(isolation): nothing fetched yet")
            XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 100, from: 50, asked: 90, fetching: false), isolation: isolation),
                           .askLeader, "\(isolation): a paused partition's cached end stops moving")
        }
    }

    func testReadUncommittedUsesTheCachedHighWatermark() {
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 40, from: 20), isolation: .readUncommitted), .known(mark(100)))
    }

    func testReadCommittedNeverGoesPastWhatIsProvenWithinTheLastStableOffset() {
        // Caught up: the consumer received everything below the cached high watermark.
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 100, from: 20), isolation: .readCommitted), .known(mark(100)))
        // The previous until reached it (an idle partition, or one ending in a transaction marker).
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 99, from: 100), isolation: .readCommitted), .known(mark(100)))
        XCTAssertEqual(LogEndChoice.choose(local(high: 0, position: nil, from: 0), isolation: .readCommitted), .known(mark(0)))
        // The leader's answer is newer than the last fetch response.
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 90, from: 20, asked: 120), isolation: .readCommitted), .known(mark(120)))
        // Behind the high watermark, which may lie past the last stable offset
        // (an open transaction): only what is proven, never the cached end.
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 60, from: 20, asked: 50), isolation: .readCommitted), .known(mark(60)))
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 40, from: 20, asked: 70), isolation: .readCommitted), .known(mark(70)))
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: nil, from: 30, asked: 20), isolation: .readCommitted), .known(mark(30)))
        // Behind, and the leader never asked: ask once, so a backlog's end is
        // planned rather than only what the read-ahead fetched.
        XCTAssertEqual(LogEndChoice.choose(local(high: 100, position: 99, from: 20), isolation: .readCommitted), .askLeader)
    }
}
