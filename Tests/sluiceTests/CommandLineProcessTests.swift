import Foundation
import SluiceWorkloads
import XCTest

/// `sluice broker`, `sluice produce` and `sluice tail` as separate processes
/// that reach each other over TCP on loopback.
final class CommandLineProcessTests: XCTestCase {
    private func startBroker(_ extra: [String] = []) throws -> (SluiceProcess, String) {
        let broker = try SluiceProcess(["broker", "--brokers", "2"] + extra)
        let line = try broker.waitForLine(startingWith: "bootstrap ", timeout: .seconds(20))
        return (broker, String(line.dropFirst("bootstrap ".count)))
    }

    func testSyntheticLoadRoundTripsThroughSeparateProcesses() throws {
        let (broker, bootstrap) = try startBroker(["--topic", "words:4"])
        let count = 5_000
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "words", "--count", "\(count)", "--seed", "3"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(60)), 0, produce.standardError)
        XCTAssertTrue(produce.standardError.contains("done: \(count)/\(count) records"), produce.standardError)

        let tail = try SluiceProcess(["tail", "--bootstrap", bootstrap, "--topic", "words", "--from", "earliest", "--count", "\(count)"])
        XCTAssertEqual(try tail.waitForExit(timeout: .seconds(60)), 0, tail.standardError)

        var workload = Workload(format: .words, seed: 3)
        let expected = (0..<count).compactMap { _ in workload.next()?.value }
        let received = tail.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(received.count, count)
        XCTAssertEqual(received.sorted(), expected.sorted(), "same multiset of lines, nothing lost or doubled")

        broker.signal(SIGTERM)
        XCTAssertEqual(try broker.waitForExit(timeout: .seconds(15)), 0, "broker exits cleanly on SIGTERM")
    }

    func testFileLinesKeepTheirOrderWithinEachPartition() throws {
        let (broker, bootstrap) = try startBroker(["--topic", "lines:3"])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = (1...600).map { "line number \($0) with some text" }
        let file = directory.appendingPathComponent("input.txt")
        // No newline after the last line: it must still be sent.
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)

        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "lines", "--file", file.path])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(60)), 0, produce.standardError)
        let tail = try SluiceProcess(["tail", "--bootstrap", bootstrap, "--topic", "lines", "--from", "earliest",
                                      "--count", "\(lines.count)", "--format", "json"])
        XCTAssertEqual(try tail.waitForExit(timeout: .seconds(60)), 0, tail.standardError)

        struct Row: Decodable { var partition: Int; var offset: Int; var key: String; var value: String }
        let rows = try tail.standardOutput.split(separator: "\n").map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)) }
        XCTAssertEqual(rows.count, lines.count)
        XCTAssertEqual(Set(rows.map(\.value)), Set(lines))
        XCTAssertGreaterThan(Set(rows.map(\.partition)).count, 1, "line-number keys spread lines over the partitions")
        for partition in Set(rows.map(\.partition)) {
            let inPartition = rows.filter { $0.partition == partition }.sorted { $0.offset < $1.offset }
            let lineNumbers = inPartition.compactMap { Int($0.key) }
            XCTAssertEqual(lineNumbers, lineNumbers.sorted(), "file order kept within partition \(partition)")
            for row in inPartition { XCTAssertEqual(row.value, lines[(Int(row.key) ?? 0) - 1]) }
        }
        broker.signal(SIGINT)
        XCTAssertEqual(try broker.waitForExit(timeout: .seconds(15)), 0)
    }

    func testBrokerAcceptsBootstrapOnAChosenPort() throws {
        let port = Int.random(in: 20_000...39_999)
        let (broker, bootstrap) = try startBroker(["--port", "\(port)", "--topic", "fixed:1"])
        XCTAssertTrue(bootstrap.hasPrefix("127.0.0.1:\(port),"), bootstrap)
        let produce = try SluiceProcess(["produce", "--bootstrap", "127.0.0.1:\(port)", "--topic", "fixed", "--count", "100", "--format", "user-events"])
        XCTAssertEqual(try produce.waitForExit(timeout: .seconds(60)), 0, produce.standardError)
        let tail = try SluiceProcess(["tail", "--bootstrap", "127.0.0.1:\(port)", "--topic", "fixed", "--from", "earliest", "--count", "100"])
        XCTAssertEqual(try tail.waitForExit(timeout: .seconds(60)), 0, tail.standardError)
        XCTAssertEqual(tail.standardOutput.split(separator: "\n").count, 100)
        broker.signal(SIGTERM)
        XCTAssertEqual(try broker.waitForExit(timeout: .seconds(15)), 0)
    }

    func testProducingToAMissingTopicFailsWithItsName() throws {
        let (broker, bootstrap) = try startBroker()
        let produce = try SluiceProcess(["produce", "--bootstrap", bootstrap, "--topic", "no-such-topic", "--count", "1"])
        XCTAssertNotEqual(try produce.waitForExit(timeout: .seconds(30)), 0)
        XCTAssertTrue(produce.standardError.contains("no-such-topic"), produce.standardError)
        broker.signal(SIGTERM)
        XCTAssertEqual(try broker.waitForExit(timeout: .seconds(15)), 0)
    }

    func testBadArgumentsAreRejectedWithTheOptionName() throws {
        let broker = try SluiceProcess(["broker", "--brokers", "0"])
        XCTAssertNotEqual(try broker.waitForExit(timeout: .seconds(10)), 0)
        XCTAssertTrue(broker.standardError.contains("--brokers"), broker.standardError)
        let produce = try SluiceProcess(["produce", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--format", "nonsense"])
        XCTAssertNotEqual(try produce.waitForExit(timeout: .seconds(10)), 0)
        XCTAssertTrue(produce.standardError.contains("format"), produce.standardError)
    }
}
