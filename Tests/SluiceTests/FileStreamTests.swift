import Foundation
import Sluice
import SluiceTesting
import Testing

@Suite struct FileStreamTests {
    func makeDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes a file elsewhere, then renames it into `directory` (atomic).
    func moveIn(_ name: String, _ contents: [UInt8], to directory: URL) throws {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("staging-\(UUID().uuidString)")
        try Data(contents).write(to: staging)
        try FileManager.default.moveItem(at: staging, to: directory.appendingPathComponent(name))
    }

    @Test func newFilesBecomeTheNextBatch() async throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try moveIn("old.txt", Array("present before start\n".utf8), to: directory)
        let driver = try StreamTestDriver()
        let collector = OutputCollector<String>()
        let partitions = NSLockedBox<[Int]>([])
        try driver.context.textFileStream(directory: directory.path).foreachBatch { batch, time, _ in
            partitions.withLock { $0.append(batch.partitions.count) }
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()
        try await driver.runBatches(1)
        try moveIn("b.txt", Array("b1\nb2\n".utf8), to: directory)
        try moveIn("a.txt", Array("a1\r\na2".utf8), to: directory)
        try moveIn(".hidden", Array("ignored\n".utf8), to: directory)
        try await driver.runBatches(1)
        try await driver.runBatches(1)
        try moveIn("c.txt", Array("c1\n".utf8), to: directory)
        try await driver.runBatches(1)
        await driver.stop()
        #expect(collector.batches == [[], ["a1", "a2", "b1", "b2"], [], ["c1"]])
        #expect(partitions.withLock { $0 } == [1, 2, 1, 1])
    }

    @Test func invalidUTF8LinesInFilesAreSkipped() async throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = TextFileSource(directory: directory)
        let driver = try StreamTestDriver()
        let collector = OutputCollector<String>()
        try driver.context.inputStream(source).foreachBatch { batch, time, _ in
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()
        try moveIn("mixed.txt", Array("ok\n".utf8) + [0xFF, 0x0A] + Array("fine\n".utf8), to: directory)
        try await driver.runBatches(1)
        await driver.stop()
        #expect(collector.batches == [["ok", "fine"]])
        #expect(source.undecodableLines == 1)
    }

    @Test func missingDirectoryFailsAtStartWithTheFix() async throws {
        let driver = try StreamTestDriver()
        try driver.context.textFileStream(directory: "/nonexistent/sluice-\(UUID().uuidString)").print(to: CapturingSink())
        try driver.start()
        await #expect {
            try await driver.context.awaitTermination()
        } throws: { error in
            (error as? StreamingError)?.message.contains("create it before starting") == true
        }
    }
}
