import Foundation
import GRDB
import SluiceKafka
import SluiceSQLite
import SluiceWorkloads
import XCTest

/// Two `sluice run wordcount` processes of one job on one SQLite file, as a
/// user starts them to scale out (issue 12's report: the second process's
/// partial totals overwrote the first's and half the words were lost). The
/// later process takes the job over; the earlier one's next commit is
/// refused and it exits with status 3, naming the process that holds the
/// job; the final `word_counts` equals a plain count of the input.
final class JobTakeoverTests: XCTestCase {
    let records = 60_000
    let seed: UInt64 = 12

    func testTwoGroupProcessesOfOneJobEndWithExactCounts() async throws {
        try await run(mode: [])
    }

    func testTwoAssignProcessesOfOneJobEndWithExactCounts() async throws {
        try await run(mode: ["--assign"])
    }

    private func run(mode: [String]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-takeover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("grp.db").path

        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "lines:6"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "lines", "--count", "\(records)",
                                         "--seed", "\(seed)", "--compression", "lz4"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(120)), 0, produce.standardError)

        // Paced, so that the first process is still reading when the second starts.
        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "lines", "--sink", "sqlite:\(database)",
                   "--job", "grp", "--interval", "200ms", "--max-rate-per-partition", "2000", "--log-level", "info"] + mode
        let first = try SluiceProcess(job)
        XCTAssertTrue(first.waitForOutput(timeout: .seconds(60)) { _, log in SluiceProcess.recordsLogged(log) > 0 },
                      "the first process commits batches: \(first.standardError)")
        let second = try SluiceProcess(job)
        defer { second.signal(SIGKILL) }

        XCTAssertEqual(try first.waitForExit(timeout: .seconds(60)), 3, "the first process stops once fenced")
        let secondPID = "pid \(second.process.processIdentifier)"
        XCTAssertTrue(first.standardError.contains("is now held by") && first.standardError.contains(secondPID),
                      "the fenced process names the one that holds the job: \(first.standardError)")

        XCTAssertTrue(second.waitForOutput(timeout: .seconds(120)) { _, _ in (try? self.committedRecords(database)) == self.records },
                      "the second process finishes the input: \(second.standardError.suffix(2_000))")
        second.signal(SIGTERM)
        XCTAssertEqual(try second.waitForExit(timeout: .seconds(30)), 0, second.standardError)

        var expected: [String: Int64] = [:]
        var workload = Workload(format: .words, seed: seed)
        for _ in 0..<records {
            guard let line = workload.next()?.value else { break }
            for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 }
        }
        let actual = try SQLiteStore(path: database).read { db in
            var counts: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT word, count FROM word_counts") { counts[row["word"]] = row["count"] }
            return counts
        }
        XCTAssertEqual(actual.values.reduce(0, +), expected.values.reduce(0, +), "every word occurrence counted once")
        XCTAssertEqual(actual, expected)
    }

    /// Records covered by job `grp`'s committed offsets (all partitions start at 0).
    private func committedRecords(_ path: String) throws -> Int {
        try SQLiteStore(path: path).read { db in
            guard try db.tableExists("sluice_offsets") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(next_offset), 0) FROM sluice_offsets WHERE job = 'grp'") ?? 0
        }
    }
}
