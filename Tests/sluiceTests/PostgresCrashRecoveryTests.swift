import Foundation
import Logging
import PostgresNIO
import SluicePostgres
import SluicePostgresTesting
import XCTest

/// The crash test (``WordCountCrashTest``) with the PostgreSQL sink: 22
/// SIGKILLs of `sluice run wordcount --sink postgres:URL` against a
/// throwaway server, then exact counts.
final class PostgresCrashRecoveryTests: XCTestCase {
    func testWordCountSurvivesRepeatedKillNineWithThePostgresSink() async throws {
        let server = try PostgresTestServer.shared()
        try server.ensureRunning()
        let url = try server.makeDatabase("crash")
        let reader = try PostgresStore(url: url)
        let logger = Logger(label: "sluice.crash-test")

        // Every batch upserts every word seen so far (running totals) and
        // its state: with ~10,000 words that is a few hundred ms per batch
        // on a busy 2-core machine, more than the SQLite test's 100 ms
        // interval, and the job would fall ever further behind. A longer
        // interval with fewer records a batch keeps 20+ kills within the input.
        var test = WordCountCrashTest()
        test.interval = "500ms"
        test.maxRatePerPartition = 1_500
        try await test.run(
            sinkArgument: "postgres:\(url)",
            committed: { topic in
                try await reader.withConnection { connection in
                    let exists = try await connection.query("SELECT to_regclass('sluice_offsets') IS NOT NULL", logger: logger)
                        .collect().first?.decode(Bool.self) ?? false
                    guard exists else { return 0 }
                    let sum = try await connection.query(
                        "SELECT COALESCE(SUM(next_offset), 0)::bigint FROM sluice_offsets WHERE job = \(WordCountCrashTest.job) AND topic = \(topic)",
                        logger: logger
                    ).collect().first?.decode(Int64.self) ?? 0
                    return Int(sum)
                }
            },
            counts: {
                try await reader.withConnection { connection in
                    var counts: [String: Int64] = [:]
                    for try await (word, count) in try await connection.query("SELECT word, count FROM word_counts", logger: logger)
                        .decode((String, Int64).self) {
                        counts[word] = count
                    }
                    return counts
                }
            },
            wordsPerSecond: {
                try await reader.withConnection { connection in
                    var counts: [Int64: Int64] = [:]
                    for try await (start, words) in try await connection.query("SELECT window_start, words FROM words_per_second", logger: logger)
                        .decode((Int64, Int64).self) {
                        counts[start] = words
                    }
                    return counts
                }
            })
        await reader.close()
    }
}
