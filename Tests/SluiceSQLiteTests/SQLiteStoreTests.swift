import Foundation
import GRDB
import Sluice
import SluiceSQLite
import XCTest

/// The SQLite store on its own: what a commit writes, that a failing commit
/// writes nothing, and that recovery reads back offsets and state.
final class SQLiteStoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private let table = ResultTable(
        name: "totals", columns: [ResultColumn("word", .text), ResultColumn("count", .integer)], mode: .upsert(key: ["word"]))

    private func commit(_ rows: [(String, Int64)], offsets: [SourceOffset], state: EncodedStateDelta, time: Int64) -> BatchCommit {
        BatchCommit(
            job: "j", batchTime: Time(milliseconds: time), table: table,
            rows: rows.map { [.text($0.0), .integer($0.1)] }, offsets: offsets,
            stateChanges: [OperatorStateChange(name: "op", encoding: "enc-1", delta: state)])
    }

    func testCommitsAreReadBackAndUpsertsReplaceByKey() async throws {
        let store = try SQLiteStore(path: directory.appendingPathComponent("a.db").path)
        let fresh = try await store.recover(job: "j", table: table)
        XCTAssertNil(fresh.lastBatchTime)
        XCTAssertTrue(fresh.offsets.isEmpty)

        try await store.commit(commit(
            [("a", 1), ("b", 2)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 10)],
            state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [10]), EncodedStateEntry(key: [2], value: [20])], deletes: []),
            time: 1_000))
        try await store.commit(commit(
            [("a", 5)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 15), SourceOffset(topic: "t", partition: 1, offset: 3)],
            state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [11])], deletes: [[2]]),
            time: 2_000))

        let rows = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT word, count FROM totals ORDER BY word").map { "\($0["word"] as String)=\($0["count"] as Int64)" }
        }
        XCTAssertEqual(rows, ["a=5", "b=2"])

        let recovered = try await SQLiteStore(path: store.path).recover(job: "j", table: table)
        XCTAssertEqual(recovered.lastBatchTime, Time(milliseconds: 2_000))
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 15), SourceOffset(topic: "t", partition: 1, offset: 3)])
        XCTAssertEqual(recovered.operators["op"]?.encoding, "enc-1")
        XCTAssertEqual(recovered.operators["op"]?.entries, [EncodedStateEntry(key: [1], value: [11])])
    }

    func testAFailingCommitLeavesNothingBehind() async throws {
        let store = try SQLiteStore(path: directory.appendingPathComponent("b.db").path)
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)],
                                      state: EncodedStateDelta(upserts: [], deletes: []), time: 1_000))
        var bad = commit([("b", 2)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 9)],
                         state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [7], value: [7])], deletes: []), time: 2_000)
        bad.rows.append([.text("c"), .null])  // violates count NOT NULL, after valid rows
        do {
            try await store.commit(bad)
            XCTFail("the commit should fail")
        } catch {}
        let recovered = try await store.recover(job: "j", table: table)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 4)], "offsets not advanced")
        XCTAssertEqual(recovered.lastBatchTime, Time(milliseconds: 1_000))
        XCTAssertEqual(recovered.operators["op"]?.entries ?? [], [], "state not written")
        let words = try store.read { db in try String.fetchAll(db, sql: "SELECT word FROM totals ORDER BY word") }
        XCTAssertEqual(words, ["a"], "rows of the failed batch rolled back")
    }

    func testTwoJobsShareAFileWithoutSeeingEachOther() async throws {
        let path = directory.appendingPathComponent("c.db").path
        let store = try SQLiteStore(path: path)
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)],
                                      state: EncodedStateDelta(upserts: [], deletes: []), time: 1_000))
        let other = try await store.recover(job: "other", table: table)
        XCTAssertTrue(other.offsets.isEmpty)
        XCTAssertNil(other.lastBatchTime)
    }

    func testAnExistingTableWithOtherColumnsIsRefusedByName() async throws {
        let store = try SQLiteStore(path: directory.appendingPathComponent("d.db").path)
        _ = try await store.recover(job: "j", table: table)
        let changed = ResultTable(name: "totals", columns: [ResultColumn("word", .text), ResultColumn("n", .integer)], mode: .append)
        do {
            _ = try await store.recover(job: "j", table: changed)
            XCTFail("should refuse")
        } catch {
            XCTAssertTrue("\(error)".contains("totals"), "\(error)")
        }
    }

    func testBadTableNamesAreRejected() {
        let bad = ResultTable(name: "drop table x;--", columns: [ResultColumn("a", .text)], mode: .append)
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("not a valid name"), "\($0)") }
    }

    func testResetForgetsOffsetsAndState() async throws {
        let store = try SQLiteStore(path: directory.appendingPathComponent("e.db").path)
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)],
                                      state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [1])], deletes: []), time: 1_000))
        try store.reset(job: "j")
        let recovered = try await store.recover(job: "j", table: table)
        XCTAssertTrue(recovered.offsets.isEmpty)
        XCTAssertTrue(recovered.operators.isEmpty)
    }

    /// Two processes on one file: the later claim fences the earlier
    /// owner's commits, which leave nothing behind, and a reset fences too.
    func testALaterClaimFencesTheEarlierOwner() async throws {
        let path = directory.appendingPathComponent("f.db").path
        let first = try SQLiteStore(path: path)
        let second = try SQLiteStore(path: path)
        _ = try await first.recover(job: "j", table: table)
        let firstClaim = try await first.claim(job: "j", owner: JobOwner(name: "host-a pid 1"))
        var mine = commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)], state: EncodedStateDelta(upserts: [], deletes: []), time: 1_000)
        mine.ownerEpoch = firstClaim.epoch
        try await first.commit(mine)

        let secondClaim = try await second.claim(job: "j", owner: JobOwner(name: "host-b pid 2"))
        XCTAssertEqual(secondClaim.previousOwner, "host-a pid 1")
        var stale = commit([("a", 9)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 8)], state: EncodedStateDelta(upserts: [], deletes: []), time: 2_000)
        stale.ownerEpoch = firstClaim.epoch
        do {
            try await first.commit(stale)
            XCTFail("a commit of the earlier owner must be refused")
        } catch let error as StreamingError {
            XCTAssertEqual(error.code, .fenced)
            XCTAssertTrue(error.message.contains("host-b pid 2"), error.message)
        }
        let recovered = try await second.recover(job: "j", table: table)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 4)], "the fenced commit left nothing")
        let counts = try second.read { db in try Int64.fetchAll(db, sql: "SELECT count FROM totals") }
        XCTAssertEqual(counts, [1])

        stale.ownerEpoch = secondClaim.epoch
        try await second.commit(stale)
        try second.reset(job: "j")
        do {
            try await second.commit(stale)
            XCTFail("a reset job has no owner: its old owner is fenced")
        } catch let error as StreamingError {
            XCTAssertEqual(error.code, .fenced)
        }
    }
}
