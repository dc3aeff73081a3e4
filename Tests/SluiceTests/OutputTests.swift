import Foundation
import Sluice
import SluiceTesting
import Testing

@Suite struct OutputTests {
    @Test func printUsesSparksFormat() async throws {
        let sink = CapturingSink()
        let driver = try StreamTestDriver()
        let batches: [[(String, Int)]] = [[("hello", 2), ("world", 1)], [], [("a", 1), ("b", 2), ("c", 3)]]
        try driver.context.queueStream(batches, partitions: 2).print(2, to: sink)
        try driver.start()
        try await driver.runBatches(3)
        await driver.stop()
        let dashes = "-------------------------------------------\n"
        #expect(sink.blocks == [
            dashes + "Time: 1000 ms\n" + dashes + "(hello,2)\n(world,1)\n\n",
            dashes + "Time: 2000 ms\n" + dashes + "\n",
            dashes + "Time: 3000 ms\n" + dashes + "(a,1)\n(b,2)\n...\n\n",
        ])
    }

    @Test func printDefaultsToTenElementsAndTheContextSink() async throws {
        let sink = CapturingSink()
        let driver = try StreamTestDriver(configuration: StreamingConfiguration(defaultParallelism: 2, printSink: sink))
        try driver.context.queueStream([Array(1...11), Array(1...10)]).print()
        try driver.start()
        try await driver.runBatches(2)
        await driver.stop()
        let lines = sink.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.filter { $0 == "..." }.count == 1)
        #expect(sink.blocks[0].hasSuffix("10\n...\n\n"))
        #expect(sink.blocks[1].hasSuffix("9\n10\n\n"))
    }

    @Test func formatMatchesScalaToString() {
        #expect(SparkFormat.string(("a", 1)) == "(a,1)")
        #expect(SparkFormat.string(("k", (1, Optional<Int>.none))) == "(k,(1,None))")
        #expect(SparkFormat.string(Optional(3)) == "Some(3)")
        #expect(SparkFormat.string([1, 2]) == "[1, 2]")
        #expect(SparkFormat.string("plain") == "plain")
    }

    @Test func saveAsTextFilesWritesOneDirectoryPerBatch() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let driver = try StreamTestDriver()
        let prefix = root.appendingPathComponent("counts").path
        try driver.context.queueStream([[("a", 1), ("b", 2), ("a", 3)], []], partitions: 2)
            .reduceByKey(+)
            .saveAsTextFiles(prefix: prefix, suffix: "txt")
        try driver.context.queueStream([["x"]]).saveAsTextFiles(prefix: root.appendingPathComponent("plain").path)
        try driver.start()
        try await driver.runBatches(2)
        await driver.stop()

        let names = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        #expect(names == ["counts-1000.txt", "counts-2000.txt", "plain-1000", "plain-2000"])
        let first = root.appendingPathComponent("counts-1000.txt")
        let files = try FileManager.default.contentsOfDirectory(atPath: first.path).sorted()
        #expect(files == ["_SUCCESS", "part-00000", "part-00001"])
        var lines: [String] = []
        for file in files where file.hasPrefix("part-") {
            let text = try String(contentsOf: first.appendingPathComponent(file), encoding: .utf8)
            lines += text.split(separator: "\n").map(String.init)
        }
        #expect(lines.sorted() == ["(a,4)", "(b,2)"])
        let plain = try String(contentsOf: root.appendingPathComponent("plain-1000/part-00000"), encoding: .utf8)
        #expect(plain == "x\n")
    }

    @Test func atomicWriteReplacesAnEarlierRunOfTheSameBatch() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-rerun-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for value in ["first", "second"] {
            let driver = try StreamTestDriver()
            try driver.context.queueStream([[value]], partitions: 1).saveAsTextFiles(prefix: root.appendingPathComponent("out").path)
            try driver.start()
            try await driver.runBatches(1)
            await driver.stop()
        }
        let text = try String(contentsOf: root.appendingPathComponent("out-1000/part-00000"), encoding: .utf8)
        #expect(text == "second\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }
}
