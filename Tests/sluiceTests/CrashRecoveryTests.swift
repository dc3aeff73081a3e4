import Foundation
import GRDB
import SluiceKafka
import SluiceSQLite
import SluiceWorkloads
import XCTest

/// The exactly-once invariant with real processes: `sluice broker` holds a
/// fixed input; `sluice run wordcount` is killed with SIGKILL at 20+ random
/// moments and restarted each time; the final table must equal a plain
/// count of the input — nothing lost, nothing counted twice.
final class CrashRecoveryTests: XCTestCase {
    func testWordCountSurvivesRepeatedKillNine() throws {
        let records = 200_000
        let seed: UInt64 = 2026
        let kills = 22
        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "words:4"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }

        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "words", "--count", "\(records)",
                                         "--seed", "\(seed)", "--compression", "lz4"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(180)), 0, produce.standardError)
        // The embedded cluster drops old data beyond ~5 MB a partition: make sure it kept everything.
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        for partition in Int32(0)..<4 {
            XCTAssertEqual(try admin.watermarks(of: KafkaTopicPartition(topic: "words", partition: partition)).low, 0,
                           "partition \(partition) kept all its records")
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("wordcount.db").path
        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "words", "--sink", "sqlite:\(database)",
                   "--job", "crash", "--assign", "--interval", "100ms", "--max-rate-per-partition", "5000", "--log-level", "warning"]

        var random = SeededGenerator(seed: 99)
        var log: [String] = []
        for kill in 1...kills {
            let runner = try SluiceProcess(job)
            let delay = 0.15 + Double(random.below(1_200)) / 1_000
            Thread.sleep(forTimeInterval: delay)
            runner.signal(SIGKILL)
            _ = try runner.waitForExit(timeout: .seconds(10))
            let committed = try committedRecords(database)
            log.append("kill \(kill) after \(Int(delay * 1000)) ms: \(committed) records committed")
            if committed >= records { break }
        }
        print("crash test:\n" + log.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(log.count, 20, "at least 20 kills happened before the input ran out")

        // Let the last run finish the input, then stop it cleanly.
        let last = try SluiceProcess(job)
        let deadline = ContinuousClock.now + .seconds(240)
        while try committedRecords(database) < records && ContinuousClock.now < deadline && last.process.isRunning {
            Thread.sleep(forTimeInterval: 0.2)
        }
        last.signal(SIGTERM)
        XCTAssertEqual(try last.waitForExit(timeout: .seconds(30)), 0, last.standardError)
        XCTAssertEqual(try committedRecords(database), records, "every record committed")

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
        XCTAssertEqual(actual.count, expected.count, "same words")
        let wrong = expected.filter { actual[$0.key] != $0.value }
        XCTAssertTrue(wrong.isEmpty, "\(wrong.count) words with wrong counts, e.g. \(wrong.prefix(5).map { "\($0.key): expected \($0.value), got \(actual[$0.key] ?? 0)" })")
    }

    /// Records covered by the job's committed offsets (all partitions start at 0).
    private func committedRecords(_ path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        return try SQLiteStore(path: path).read { db in
            guard try db.tableExists("sluice_offsets") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(next_offset), 0) FROM sluice_offsets WHERE job = 'crash'") ?? 0
        }
    }
}
