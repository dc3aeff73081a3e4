import Foundation
import GRDB
import SluiceSQLite
import XCTest

/// The crash test (``WordCountCrashTest``) with the SQLite sink: 22 SIGKILLs
/// of `sluice run wordcount --sink sqlite:FILE`, then exact counts.
final class CrashRecoveryTests: XCTestCase {
    func testWordCountSurvivesRepeatedKillNine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("wordcount.db").path

        try await WordCountCrashTest().run(
            sinkArgument: "sqlite:\(database)",
            committed: { try self.committed(database, topic: $0) },
            counts: {
                try SQLiteStore(path: database).read { db in
                    var counts: [String: Int64] = [:]
                    for row in try Row.fetchAll(db, sql: "SELECT word, count FROM word_counts") { counts[row["word"]] = row["count"] }
                    return counts
                }
            },
            wordsPerSecond: {
                try SQLiteStore(path: database).read { db in
                    var counts: [Int64: Int64] = [:]
                    for row in try Row.fetchAll(db, sql: "SELECT window_start, words FROM words_per_second") { counts[row["window_start"]] = row["words"] }
                    return counts
                }
            })
    }

    /// The sum of the job's committed next offsets over `topic`'s partitions.
    private func committed(_ path: String, topic: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else { return 0 }
        return try SQLiteStore(path: path).read { db in
            guard try db.tableExists("sluice_offsets") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(next_offset), 0) FROM sluice_offsets WHERE job = ? AND topic = ?",
                                    arguments: [WordCountCrashTest.job, topic]) ?? 0
        }
    }
}
