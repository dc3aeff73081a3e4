import Foundation
import GRDB
import SluiceKafka
import SluiceSQLite
import SluiceWorkloads
import XCTest

/// Two `sluice run wordcount --assign` processes of one job on one SQLite
/// file: `--assign` reads every partition without the group, so the later
/// process claims every task; the earlier one's next commit is refused and
/// it exits with status 3, naming the process that holds the job; the final
/// `word_counts` equals a plain count of the input.
final class JobTakeoverTests: XCTestCase {
    let records = 60_000
    let seed: UInt64 = 12

    func testASecondAssignProcessOfAJobFencesTheFirstAndCountsStayExact() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-takeover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("grp.db").path

        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "lines:6",
                                        "--topic", "grp-words-repartition:6", "--topic", "grp-words-per-second-repartition:6"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "lines", "--count", "\(records)",
                                         "--seed", "\(seed)", "--compression", "lz4"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(120)), 0, produce.standardError)

        // Paced, so that the first process is still reading when the second starts.
        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "lines", "--sink", "sqlite:\(database)",
                   "--job", "grp", "--interval", "200ms", "--max-rate-per-partition", "2000", "--log-level", "info", "--assign"]
        let first = try SluiceProcess(job)
        XCTAssertTrue(first.waitForOutput(timeout: .seconds(60)) { _, log in SluiceProcess.recordsLogged(log) > 0 },
                      "the first process commits batches: \(first.standardError)")
        let second = try SluiceProcess(job)
        defer { second.signal(SIGKILL) }

        XCTAssertEqual(try first.waitForExit(timeout: .seconds(60)), 3, "the first process stops once fenced")
        let secondPID = "pid \(second.process.processIdentifier)"
        XCTAssertTrue(first.standardError.contains("is now held by") && first.standardError.contains(secondPID),
                      "the fenced process names the one that holds the job: \(first.standardError.suffix(3_000))")

        XCTAssertTrue(second.waitForOutput(timeout: .seconds(120)) { _, _ in
            WordCountProcesses.isDone(database, job: "grp", records: self.records, bootstrap: bootstrap, partitions: 6)
        }, "the second process finishes the input and what it repartitioned: \(second.standardError.suffix(2_000))")
        second.signal(SIGTERM)
        XCTAssertEqual(try second.waitForExit(timeout: .seconds(30)), 0, second.standardError)
        XCTAssertEqual(try WordCountProcesses.counts(database), WordCountProcesses.expectedCounts(records: records, seed: seed))
    }
}

/// What the process tests of `sluice run wordcount` read back.
enum WordCountProcesses {
    /// Records of topic `lines` covered by the job's committed offsets.
    static func committedInput(_ path: String, job: String, topic: String = "lines") throws -> Int {
        try SQLiteStore(path: path).read { db in
            guard try db.tableExists("sluice_offsets") else { return 0 }
            return try Int.fetchOne(
                db, sql: "SELECT COALESCE(SUM(next_offset), 0) FROM sluice_offsets WHERE job = ? AND topic = ?", arguments: [job, topic]) ?? 0
        }
    }

    /// Whether job `job` committed `records` records of topic `lines` and
    /// everything it wrote to its two repartition topics (their high
    /// watermarks), each of `partitions` partitions.
    static func isDone(_ path: String, job: String, records: Int, bootstrap: String, partitions: Int32) -> Bool {
        guard (try? committedInput(path, job: job)) == records,
              let admin = try? KafkaAdmin(bootstrapServers: bootstrap) else { return false }
        for topic in ["\(job)-words-repartition", "\(job)-words-per-second-repartition"] {
            var written = 0
            for partition in 0..<partitions {
                guard let marks = try? admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: partition)) else { return false }
                written += Int(marks.high)
            }
            guard (try? committedInput(path, job: job, topic: topic)) == written else { return false }
        }
        return true
    }

    static func counts(_ path: String) throws -> [String: Int64] {
        try SQLiteStore(path: path).read { db in
            var counts: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT word, count FROM word_counts") { counts[row["word"]] = row["count"] }
            return counts
        }
    }

    /// A plain count of the words of the generated input.
    static func expectedCounts(records: Int, seed: UInt64) -> [String: Int64] {
        var expected: [String: Int64] = [:]
        var workload = Workload(format: .words, seed: seed)
        for _ in 0..<records {
            guard let line = workload.next()?.value else { break }
            for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 }
        }
        return expected
    }
}
