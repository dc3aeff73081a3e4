import Foundation
import XCTest

/// `sluice wordcount` as Spark's guide runs NetworkWordCount and its
/// stateful and windowed variants: a line server on loopback, the command
/// in its own process, its `print` output read back.
final class WordCountCommandTests: XCTestCase {
    /// The batches printed so far, as (time, lines) in Spark's format.
    private func printedBatches(_ output: String) -> [(time: String, lines: [String])] {
        var batches: [(String, [String])] = []
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            if lines[index] == "-------------------------------------------", index + 2 < lines.count, lines[index + 1].hasPrefix("Time: "),
               lines[index + 2] == "-------------------------------------------" {
                var body: [String] = []
                var next = index + 3
                while next < lines.count, !lines[next].isEmpty { body.append(lines[next]); next += 1 }
                batches.append((String(lines[index + 1].dropFirst("Time: ".count)), body))
                index = next
            } else {
                index += 1
            }
        }
        return batches
    }

    private func waitForBatch(_ process: SluiceProcess, timeout: Duration, _ matches: ([String]) -> Bool) throws -> [String] {
        if process.waitForOutput(timeout: timeout, { output, _ in printedBatches(output).contains { matches($0.lines) } }),
           let batch = printedBatches(process.standardOutput).first(where: { matches($0.lines) }) {
            return batch.lines
        }
        throw TestFailure("no matching batch within \(timeout); output:\n\(process.standardOutput)\nstderr:\n\(process.standardError)")
    }

    func testNetworkWordCountPrintsEachBatchInSparksFormat() throws {
        let server = try LineServer()
        let job = try SluiceProcess(["wordcount", "--socket", "127.0.0.1:\(server.port)", "--interval", "500ms", "--log-level", "warning"])
        try server.send(["to be or not to be"])
        let batch = try waitForBatch(job, timeout: .seconds(20)) { !$0.isEmpty }
        XCTAssertEqual(Set(batch), ["(to,2)", "(be,2)", "(or,1)", "(not,1)"])
        let times = printedBatches(job.standardOutput).compactMap { Int64($0.time.dropLast(" ms".count)) }
        XCTAssertTrue(times.allSatisfy { $0 % 500 == 0 }, "batch times are multiples of the interval: \(times)")
        job.signal(SIGINT)
        XCTAssertEqual(try job.waitForExit(timeout: .seconds(20)), 0, job.standardError)
    }

    func testStatefulWordCountPrintsRunningTotals() throws {
        let server = try LineServer()
        let job = try SluiceProcess(["wordcount", "--socket", "127.0.0.1:\(server.port)", "--interval", "300ms", "--stateful", "--log-level", "warning"])
        try server.send(["a b a"])
        _ = try waitForBatch(job, timeout: .seconds(20)) { Set($0) == ["(a,2)", "(b,1)"] }
        try server.send(["b c"])
        _ = try waitForBatch(job, timeout: .seconds(20)) { Set($0) == ["(a,2)", "(b,2)", "(c,1)"] }
        // Totals stay printed on batches without new lines.
        let before = printedBatches(job.standardOutput).count
        XCTAssertTrue(job.waitForOutput(timeout: .seconds(10)) { output, _ in printedBatches(output).count >= before + 2 },
                      "two more batches printed:\n\(job.standardOutput)")
        XCTAssertEqual(Set(printedBatches(job.standardOutput).last?.lines ?? []), ["(a,2)", "(b,2)", "(c,1)"])
        job.signal(SIGTERM)
        XCTAssertEqual(try job.waitForExit(timeout: .seconds(20)), 0, job.standardError)
    }

    func testWindowedWordCountSlidesOverEmptyBatchesUntilTheWordsLeave() throws {
        let server = try LineServer()
        let job = try SluiceProcess(["wordcount", "--socket", "127.0.0.1:\(server.port)", "--interval", "250ms",
                                     "--window", "1s", "--slide", "250ms", "--log-level", "warning"])
        try server.send(["x y x"])
        _ = try waitForBatch(job, timeout: .seconds(20)) { Set($0) == ["(x,2)", "(y,1)"] }
        // One second later the words have left the window: zero counts are filtered out.
        let seen = printedBatches(job.standardOutput).count
        let emptied = job.waitForOutput(timeout: .seconds(15)) { output, _ in
            printedBatches(output).dropFirst(seen).contains { $0.lines.isEmpty }
        }
        XCTAssertTrue(emptied, "a window after the words left prints no elements:\n\(job.standardOutput)")
        job.signal(SIGTERM)
        XCTAssertEqual(try job.waitForExit(timeout: .seconds(20)), 0, job.standardError)
    }

    func testAWindowThatIsNotAMultipleOfTheIntervalFailsAtStartNamingBoth() throws {
        let job = try SluiceProcess(["wordcount", "--socket", "127.0.0.1:9", "--interval", "1s", "--window", "1500ms"])
        XCTAssertNotEqual(try job.waitForExit(timeout: .seconds(20)), 0)
        XCTAssertTrue(job.standardError.contains("1.5") || job.standardError.contains("1500"), job.standardError)
        XCTAssertTrue(job.standardError.contains("1.0 seconds") || job.standardError.contains("1 seconds") || job.standardError.contains("1000"), job.standardError)
    }
}
