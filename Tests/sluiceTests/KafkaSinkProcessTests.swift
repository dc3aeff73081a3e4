import Foundation
import SluiceWorkloads
import XCTest

/// `sluice run wordcount --sink kafka:TOPIC` against `sluice broker`: the
/// newest `word<TAB>count` record per word equals a plain count, also after
/// the job is stopped and started again.
///
/// The first run is stopped with SIGTERM, not killed: the mock cluster does
/// not emulate transactions, so records of a transaction cut short by a kill
/// would stay visible to readers and to recovery. Killing needs a real broker.
final class KafkaSinkProcessTests: XCTestCase {
    func testWordCountIntoAKafkaTopicResumesAfterARestart() throws {
        let broker = try SluiceProcess(["broker", "--brokers", "1", "--topic", "lines:2", "--topic", "counts:1", "--topic", "counts-changelog:1",
                                        "--topic", "kwc-words-repartition:2", "--topic", "kwc-words-per-second-repartition:2"])
        let bootstrap = String(try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20)).dropFirst("bootstrap ".count))
        defer { broker.signal(SIGTERM); _ = try? broker.waitForExit(timeout: .seconds(15)) }
        let records = 3_000
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "lines", "--count", "\(records)", "--seed", "5"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(60)), 0, produce.standardError)

        let job = ["run", "wordcount", "--bootstrap", bootstrap, "--topic", "lines", "--sink", "kafka:counts", "--job", "kwc",
                   "--assign", "--interval", "200ms", "--max-rate-per-partition", "2000", "--log-level", "info"]
        // First run: stopped part way (400 records a partition a batch → ~4 batches in total).
        // A graceful stop finishes the batches already planned, then exits.
        let first = try SluiceProcess(job)
        guard first.waitForOutput(timeout: .seconds(30), { _, log in log.contains(" ms: 800 records,") }) else {
            throw TestFailure("the first run logged no batch of 800 records within 30 s:\n\(first.standardError.suffix(3_000))")
        }
        first.signal(SIGTERM)
        XCTAssertEqual(try first.waitForExit(timeout: .seconds(30)), 0, first.standardError)

        let second = try SluiceProcess(job)
        // Caught up: the batches of both runs read every record (each batch
        // logs `records=N`) and what they repartitioned, and the second run
        // is up (it handles SIGTERM).
        let firstRead = SluiceProcess.recordsLogged(first.standardError)
        guard second.waitForOutput(timeout: .seconds(60), { _, log in log.contains("running:") && firstRead + SluiceProcess.recordsLogged(log) >= records && SluiceProcess.isIdle(log) }) else {
            XCTFail("first run:\n\(first.standardError.suffix(3_000))\nsecond run:\n\(second.standardError.suffix(3_000))")
            throw TestFailure("the two runs did not read every record within 60 s")
        }
        second.signal(SIGTERM)
        XCTAssertEqual(try second.waitForExit(timeout: .seconds(30)), 0, second.standardError)

        let tail = try SluiceProcess(["tail", "--bootstrap", bootstrap, "--topic", "counts", "--from", "earliest", "--idle-exit", "3"])
        XCTAssertEqual(try tail.waitForExit(timeout: .seconds(60)), 0, tail.standardError)
        var latest: [String: Int64] = [:]
        for line in tail.standardOutput.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2, let count = Int64(fields[1]) { latest[String(fields[0])] = count }
        }
        var expected: [String: Int64] = [:]
        var workload = Workload(format: .words, seed: 5)
        for _ in 0..<records {
            for word in (workload.next()?.value ?? "").split(separator: " ") { expected[String(word), default: 0] += 1 }
        }
        XCTAssertEqual(latest.count, expected.count)
        XCTAssertEqual(latest.filter { expected[$0.key] != $0.value }.count, 0, "newest count per word equals the plain count")
    }
}
