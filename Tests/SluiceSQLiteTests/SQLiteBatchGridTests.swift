import Foundation
import GRDB
import Sluice
import SluiceSQLite
import SluiceTesting
import XCTest

/// The job's batch grid goes through the SQLite store like any operator
/// state (no schema of its own): a window sliding by two batches, stopped
/// after an odd number of batches and started again with a fresh context
/// from the same file, writes what an uninterrupted run writes.
final class SQLiteBatchGridTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-grid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Batch i (at i s) holds the number 10^(i−1), so every window's sum
    /// names the batches it holds.
    private func batch(_ index: Int) -> [Int64] { [Int64(pow(10, Double(index - 1)))] }

    private let table = ResultTable(name: "sums", columns: [ResultColumn("sum", .integer)], mode: .append)

    /// Runs batches `batches` (1-based) of the job on a fresh context whose
    /// clock reads one interval before the first of them.
    private func run(_ batches: ClosedRange<Int>, path: String, log: ReplayableLog<Int64>) async throws {
        let driver = try StreamTestDriver(startingAt: .seconds(batches.lowerBound - 1))
        let numbers = driver.context.inputStream(ReplayableLogSource(log: log))
        try await numbers.reduceByWindow(+, inverse: -, .seconds(4), slide: .seconds(2))
            .saveExactlyOnce(to: try SQLiteStore(path: path), job: "grid", table: table) { [.integer($0)] }
        try driver.start()
        for index in batches {
            log.append(batch(index))
            try await driver.runBatches(1)
        }
        await driver.stop()
    }

    private func sums(_ path: String) throws -> [Int64] {
        try SQLiteStore(path: path).read { db in try Int64.fetchAll(db, sql: "SELECT sum FROM sums ORDER BY rowid") }
    }

    func testARestartAfterAnOddBatchKeepsTheWindowTimes() async throws {
        let whole = directory.appendingPathComponent("whole.db").path
        try await run(1...9, path: whole, log: ReplayableLog<Int64>())
        // Windows at 2, 4, 6, 8 s over (t − 4 s, t].
        XCTAssertEqual(try sums(whole), [11, 1111, 111_100, 11_110_000])

        let restarted = directory.appendingPathComponent("restarted.db").path
        let log = ReplayableLog<Int64>()
        try await run(1...3, path: restarted, log: log)
        try await run(4...9, path: restarted, log: log)
        XCTAssertEqual(try sums(restarted), try sums(whole))

        let grid = try SQLiteStore(path: restarted).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sluice_state WHERE job = 'grid' AND operator = 'sluice.batchGrid'")
        }
        XCTAssertEqual(grid, 2, "the zero time and the interval are stored as state")
    }
}
