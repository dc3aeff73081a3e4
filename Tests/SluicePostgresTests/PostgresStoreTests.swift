import Foundation
import PostgresNIO
import Sluice
@testable import SluicePostgres
import SluicePostgresTesting
import XCTest

/// The PostgreSQL store on its own, against a real server: what a commit
/// writes, that a failing commit writes nothing, that recovery reads back
/// offsets and state — the SQLite store's tests, plus reconnection.
final class PostgresStoreTests: XCTestCase {
    private let table = ResultTable(
        name: "totals", columns: [ResultColumn("word", .text), ResultColumn("count", .integer)], mode: .upsert(key: ["word"]))

    private func commit(_ rows: [(String, Int64)], offsets: [SourceOffset], state: EncodedStateDelta, time: Int64, job: String = "j") -> BatchCommit {
        BatchCommit(
            job: job, batchTime: Time(milliseconds: time), table: table,
            rows: rows.map { [.text($0.0), .integer($0.1)] }, offsets: offsets,
            stateChanges: [OperatorStateChange(name: "op", encoding: "enc-1", delta: state)])
    }

    private let noState = EncodedStateDelta(upserts: [], deletes: [])

    private func newStore() throws -> PostgresStore {
        try PostgresStore(url: try runningPostgresServer().makeDatabase("store"))
    }

    func testCommitsAreReadBackAndUpsertsReplaceByKey() async throws {
        let store = try newStore()
        let fresh = try await store.recover(job: "j", table: table)
        XCTAssertNil(fresh.lastBatchTime)
        XCTAssertTrue(fresh.offsets.isEmpty)

        try await store.commit(commit(
            [("a", 1), ("b", 2)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 10)],
            state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [10]), EncodedStateEntry(key: [2], value: [20])], deletes: []),
            time: 1_000))
        try await store.commit(commit(
            [("a", 4), ("a", 5)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 15), SourceOffset(topic: "t", partition: 1, offset: 3)],
            state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [11])], deletes: [[2]]),
            time: 2_000))

        let rows = try await store.rows("SELECT word, count FROM totals ORDER BY word") { row in
            let (word, count) = try row.decode((String, Int64).self)
            return "\(word)=\(count)"
        }
        XCTAssertEqual(rows, ["a=5", "b=2"], "the last row of a key wins, within a batch and across batches")

        let reopened = PostgresStore(configuration: store.configuration)
        let recovered = try await reopened.recover(job: "j", table: table)
        XCTAssertEqual(recovered.lastBatchTime, Time(milliseconds: 2_000))
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 15), SourceOffset(topic: "t", partition: 1, offset: 3)])
        XCTAssertEqual(recovered.operators["op"]?.encoding, "enc-1")
        XCTAssertEqual(recovered.operators["op"]?.entries, [EncodedStateEntry(key: [1], value: [11])])
        await reopened.close()
        await store.close()
    }

    func testAFailingCommitLeavesNothingBehind() async throws {
        let store = try newStore()
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)], state: noState, time: 1_000))
        var bad = commit([("b", 2)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 9)],
                         state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [7], value: [7])], deletes: []), time: 2_000)
        bad.rows.append([.text("c"), .null])  // violates count NOT NULL, after a valid row
        do {
            try await store.commit(bad)
            XCTFail("the commit should fail")
        } catch let error as StreamingError {
            XCTAssertTrue(error.message.contains("null value"), "the server's reason is shown: \(error.message)")
        }
        let retries = await store.retries
        XCTAssertEqual(retries, 0, "a statement the server refuses is not retried")
        let recovered = try await store.recover(job: "j", table: table)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 4)], "offsets not advanced")
        XCTAssertEqual(recovered.lastBatchTime, Time(milliseconds: 1_000))
        XCTAssertEqual(recovered.operators["op"]?.entries ?? [], [], "state not written")
        let totals = try await store.counts(table: "totals")
        XCTAssertEqual(totals, ["a": 1], "rows of the failed batch rolled back")
        await store.close()
    }

    func testTwoJobsShareADatabaseWithoutSeeingEachOther() async throws {
        let store = try newStore()
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)],
                                      state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [1])], deletes: []), time: 1_000))
        let other = PostgresStore(configuration: store.configuration)
        let fresh = try await other.recover(job: "other", table: table)
        XCTAssertTrue(fresh.offsets.isEmpty)
        XCTAssertNil(fresh.lastBatchTime)
        XCTAssertTrue(fresh.operators.isEmpty)
        try await other.commit(commit([("z", 9)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 40)], state: noState, time: 5_000, job: "other"))
        let mine = try await store.recover(job: "j", table: table)
        XCTAssertEqual(mine.offsets, [SourceOffset(topic: "t", partition: 0, offset: 4)], "the other job's offsets are its own")
        XCTAssertEqual(mine.lastBatchTime, Time(milliseconds: 1_000))
        await other.close()
        await store.close()
    }

    func testAnExistingTableWithOtherColumnsIsRefusedByName() async throws {
        let store = try newStore()
        _ = try await store.recover(job: "j", table: table)
        let changed = ResultTable(name: "totals", columns: [ResultColumn("word", .text), ResultColumn("n", .integer)], mode: .append)
        do {
            _ = try await store.recover(job: "j", table: changed)
            XCTFail("should refuse")
        } catch {
            XCTAssertTrue("\(error)".contains("totals"), "\(error)")
            XCTAssertTrue("\(error)".contains("[\"word\", \"count\"]"), "names the existing columns: \(error)")
        }
        await store.close()
    }

    func testBadNamesAreRejectedAndValuesNeverBecomeSQL() async throws {
        let store = try newStore()
        let bad = ResultTable(name: "drop table x;--", columns: [ResultColumn("a", .text)], mode: .append)
        do {
            _ = try await store.recover(job: "j", table: bad)
            XCTFail("should refuse the table name")
        } catch {
            XCTAssertTrue("\(error)".contains("not a valid name"), "\(error)")
        }
        let badColumn = ResultTable(name: "ok", columns: [ResultColumn("a\"b", .text)], mode: .append)
        do {
            try await store.commit(BatchCommit(job: "j", batchTime: Time(milliseconds: 1), table: badColumn, rows: [], offsets: [], stateChanges: []))
            XCTFail("should refuse the column name")
        } catch {
            XCTAssertTrue("\(error)".contains("not a valid name"), "\(error)")
        }

        // Values are bound, never spliced: quotes and statements are stored as text.
        _ = try await store.recover(job: "j'; DROP TABLE sluice_jobs; --", table: table)
        let hostile = "x'); DROP TABLE totals; --"
        try await store.commit(commit([(hostile, 1)], offsets: [SourceOffset(topic: "t'\"", partition: 0, offset: 1)], state: noState,
                                      time: 1_000, job: "j'; DROP TABLE sluice_jobs; --"))
        let totals = try await store.counts(table: "totals")
        XCTAssertEqual(totals, [hostile: 1])
        let recovered = try await store.recover(job: "j'; DROP TABLE sluice_jobs; --", table: table)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t'\"", partition: 0, offset: 1)])
        await store.close()
    }

    func testResetForgetsOffsetsAndStateButKeepsResults() async throws {
        let store = try newStore()
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)],
                                      state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [1])], deletes: []), time: 1_000))
        try await store.reset(job: "j")
        let recovered = try await store.recover(job: "j", table: table)
        XCTAssertTrue(recovered.offsets.isEmpty)
        XCTAssertTrue(recovered.operators.isEmpty)
        XCTAssertNil(recovered.lastBatchTime)
        let totals = try await store.counts(table: "totals")
        XCTAssertEqual(totals, ["a": 1])
        await store.close()
    }

    func testAppendAndReplaceModesAndDeadLetters() async throws {
        let store = try newStore()
        let windows = ResultTable(
            name: "windows", columns: [ResultColumn("start", .integer), ResultColumn("word", .text), ResultColumn("weight", .real),
                                       ResultColumn("raw", .blob, nullable: true)], mode: .append)
        let snapshot = ResultTable(name: "snapshot", columns: [ResultColumn("word", .text)], mode: .replace)
        _ = try await store.recover(job: "w", table: windows)
        _ = try await store.recover(job: "s", table: snapshot)
        for time in [1_000, 2_000] as [Int64] {
            try await store.commit(BatchCommit(
                job: "w", batchTime: Time(milliseconds: time), table: windows,
                rows: [[.integer(time), .text("a"), .real(0.5), .blob([0, 255])], [.integer(time), .text("a"), .real(1.5), .null]],
                offsets: [], stateChanges: [],
                deadLetters: [DeadLetter(topic: "t", partition: 1, offset: time, error: "bad UTF-8", payload: [0xFF])]))
            try await store.commit(BatchCommit(
                job: "s", batchTime: Time(milliseconds: time), table: snapshot, rows: [[.text("at-\(time)")]], offsets: [], stateChanges: []))
        }
        let appended = try await store.rows(#"SELECT count(*), sum(weight), count(raw) FROM windows"#) { try $0.decode((Int64, Double, Int64).self) }
        XCTAssertEqual(appended.first?.0, 4, "append keeps every row")
        XCTAssertEqual(appended.first?.1, 4.0)
        XCTAssertEqual(appended.first?.2, 2, "NULL blobs stay NULL")
        let replaced = try await store.rows("SELECT word FROM snapshot") { try $0.decode(String.self) }
        XCTAssertEqual(replaced, ["at-2000"], "replace keeps the last batch's rows only")
        let letters = try await store.rows(#"SELECT "offset", error, payload FROM sluice_dead_letters WHERE job = 'w' ORDER BY "offset""#) {
            try $0.decode((Int64, String, ByteBuffer).self)
        }
        XCTAssertEqual(letters.map(\.0), [1_000, 2_000])
        XCTAssertEqual(letters.map(\.1), ["bad UTF-8", "bad UTF-8"])
        XCTAssertEqual(letters.map { Array($0.2.readableBytesView) }, [[0xFF], [0xFF]])
        await store.close()
    }

    // MARK: Reconnection

    func testACommitAfterARestartOfTheServerReconnects() async throws {
        let server = try runningPostgresServer()
        let store = try PostgresStore(url: try server.makeDatabase("restart"))
        _ = try await store.recover(job: "j", table: table)
        try await store.commit(commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 1)], state: noState, time: 1_000))
        try server.restart()
        try await store.commit(commit([("a", 2)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 2)], state: noState, time: 2_000))
        let recovered = try await store.recover(job: "j", table: table)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 2)])
        let totals = try await store.counts(table: "totals")
        XCTAssertEqual(totals, ["a": 2])
        await store.close()
    }

    func testACommitWaitsForTheServerToComeBackAndCommitsOnce() async throws {
        let server = try runningPostgresServer()
        defer { try? server.ensureRunning() }
        var configuration = try PostgresStoreConfiguration(url: try server.makeDatabase("outage"))
        configuration.initialBackoff = .milliseconds(50)
        configuration.maximumBackoff = .milliseconds(400)
        configuration.attempts = 100  // about 40 s
        let store = PostgresStore(configuration: configuration)
        _ = try await store.recover(job: "j", table: table)

        try server.stop()
        let batch = commit([("a", 1), ("b", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 7)],
                           state: EncodedStateDelta(upserts: [EncodedStateEntry(key: [1], value: [1])], deletes: []), time: 1_000)
        let pending = Task { try await store.commit(batch) }
        // The commit keeps failing while the server is down (bounded wait).
        let deadline = ContinuousClock.now + .seconds(20)
        while await store.retries < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let retries = await store.retries
        XCTAssertGreaterThanOrEqual(retries, 3, "the commit retried while the server was down")
        try server.start()
        try await pending.value

        let recovered = try await store.recover(job: "j", table: table)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 7)])
        XCTAssertEqual(recovered.operators["op"]?.entries, [EncodedStateEntry(key: [1], value: [1])])
        let totals = try await store.counts(table: "totals")
        XCTAssertEqual(totals, ["a": 1, "b": 1])
        await store.close()
    }

    /// An append table shows a repeated transaction: its rows would double.
    private let events = ResultTable(name: "events", columns: [ResultColumn("n", .integer)], mode: .append)

    private func commitEvent(_ store: PostgresStore) async throws {
        try await store.commit(BatchCommit(
            job: "j", batchTime: Time(milliseconds: 1_000), table: events, rows: [[.integer(1)], [.integer(2)]],
            offsets: [SourceOffset(topic: "t", partition: 0, offset: 5)], stateChanges: []))
    }

    func testACommitWhoseAnswerWasLostIsNotRepeated() async throws {
        let store = try newStore()
        _ = try await store.recover(job: "j", table: events)
        await store.inject(.answerLost)
        try await commitEvent(store)
        let retries = await store.retries
        XCTAssertEqual(retries, 1, "the lost answer cost one reconnection")
        let rows = try await store.rows("SELECT n FROM events ORDER BY n") { try $0.decode(Int64.self) }
        XCTAssertEqual(rows, [1, 2], "txid_status said committed: the batch was not written twice")
        let recovered = try await store.recover(job: "j", table: events)
        XCTAssertEqual(recovered.offsets, [SourceOffset(topic: "t", partition: 0, offset: 5)])
        await store.close()
    }

    func testATransactionCutBeforeCommitIsRepeatedOnce() async throws {
        let store = try newStore()
        _ = try await store.recover(job: "j", table: events)
        await store.inject(.beforeCommit)
        try await commitEvent(store)
        let retries = await store.retries
        XCTAssertGreaterThanOrEqual(retries, 1)
        let rows = try await store.rows("SELECT n FROM events ORDER BY n") { try $0.decode(Int64.self) }
        XCTAssertEqual(rows, [1, 2], "the aborted transaction left nothing; the repeat wrote the rows once")
        await store.close()
    }

    func testACommitGivesUpAfterItsAttempts() async throws {
        var configuration = PostgresStoreConfiguration(host: "127.0.0.1", port: 1, username: "nobody", database: "none")
        configuration.attempts = 3
        configuration.initialBackoff = .milliseconds(10)
        let store = PostgresStore(configuration: configuration)
        let started = ContinuousClock.now
        do {
            _ = try await store.recover(job: "j", table: table)
            XCTFail("nothing listens on port 1")
        } catch let error as StreamingError {
            XCTAssertEqual(error.code, .io)
            XCTAssertTrue(error.message.contains("3 times"), error.message)
            XCTAssertTrue(error.message.contains("127.0.0.1:1"), error.message)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20))
        let retries = await store.retries
        XCTAssertEqual(retries, 2)
    }

    // MARK: Connection strings

    func testConnectionStrings() throws {
        let full = try PostgresStoreConfiguration(url: "postgres://ann:s%40cret@db.example:6543/views?sslmode=disable")
        XCTAssertEqual(full.host, "db.example")
        XCTAssertEqual(full.port, 6543)
        XCTAssertEqual(full.username, "ann")
        XCTAssertEqual(full.password, "s@cret")
        XCTAssertEqual(full.database, "views")
        XCTAssertEqual(full.displayURL, "postgres://ann:***@db.example:6543/views", "the password is never shown")

        let short = try PostgresStoreConfiguration(url: "postgresql://127.0.0.1")
        XCTAssertEqual(short.port, 5432)
        XCTAssertEqual(short.username, "postgres")
        XCTAssertNil(short.database)
        XCTAssertEqual(short.displayURL, "postgres://postgres@127.0.0.1:5432/postgres")

        for bad in ["mysql://x/y", "postgres://", "postgres://h/a/b", "postgres://h/d?sslmode=prefer", "postgres://h/d?foo=1", "nonsense"] {
            XCTAssertThrowsError(try PostgresStoreConfiguration(url: bad), bad) { error in
                XCTAssertTrue("\(error)".contains("postgres://user:password@host:port/database"), "\(bad): \(error)")
            }
        }
        XCTAssertThrowsError(try PostgresStoreConfiguration(url: "postgres://u:topsecret@h/d?sslmode=allow")) {
            XCTAssertFalse("\($0)".contains("topsecret"), "errors hide the password: \($0)")
        }
    }

    /// Two processes on one database: the later claim fences the earlier
    /// owner's commits, which leave nothing behind.
    func testALaterClaimFencesTheEarlierOwner() async throws {
        let url = try runningPostgresServer().makeDatabase("fencing")
        let first = try PostgresStore(url: url)
        let second = try PostgresStore(url: url)
        _ = try await first.recover(job: "j", table: table)
        let firstClaim = try await first.claim(job: "j", owner: JobOwner(name: "host-a pid 1"))
        var mine = commit([("a", 1)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 4)], state: noState, time: 1_000)
        mine.ownerEpoch = firstClaim.epoch
        try await first.commit(mine)

        let secondClaim = try await second.claim(job: "j", owner: JobOwner(name: "host-b pid 2"))
        XCTAssertEqual(secondClaim.previousOwner, "host-a pid 1")
        var stale = commit([("a", 9)], offsets: [SourceOffset(topic: "t", partition: 0, offset: 8)], state: noState, time: 2_000)
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
        let counts = try await second.counts(table: "totals")
        XCTAssertEqual(counts, ["a": 1])
        stale.ownerEpoch = secondClaim.epoch
        try await second.commit(stale)
        let after = try await second.counts(table: "totals")
        XCTAssertEqual(after, ["a": 9])
        await first.close()
        await second.close()
    }
}
