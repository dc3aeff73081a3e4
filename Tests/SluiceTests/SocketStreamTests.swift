import Foundation
import Sluice
import SluiceTesting
import Testing

/// The socket source over real loopback TCP, on the real clock with a short
/// interval; every wait is for an expected number of lines, bounded in time.
@Suite(.serialized) struct SocketStreamTests {
    /// Collects lines until `count` have arrived (or 10 s passed).
    final class LineCollector: @unchecked Sendable {
        let lines = NSLockedBox<[String]>([])
        let arrived = EventCounter()

        func add(_ batch: [String]) {
            lines.withLock { $0 += batch }
            for _ in batch { arrived.increment() }
        }
    }

    func makeContext() throws -> StreamingContext {
        try StreamingContext(batchInterval: .milliseconds(20), configuration: StreamingConfiguration(defaultParallelism: 2))
    }

    @Test func linesSplitAcrossReadsStayWhole() async throws {
        let server = try LoopbackServer()
        defer { server.shutdown() }
        let ssc = try makeContext()
        let collector = LineCollector()
        try ssc.socketTextStream(host: "127.0.0.1", port: server.port).foreachBatch { batch, _, _ in
            collector.add(batch.collect())
        }
        server.serve([Array("hello wor".utf8), Array("ld\nsecond line\r\nthi".utf8), Array("rd\n\nlast without newline".utf8)])
        try ssc.start()
        let complete = await collector.arrived.wait(for: 5)
        await ssc.stop()
        #expect(complete)
        #expect(collector.lines.withLock { $0 } == ["hello world", "second line", "third", "", "last without newline"])
    }

    @Test func reconnectsWhenTheServerRestarts() async throws {
        let first = try LoopbackServer()
        let port = first.port
        let source = SocketLineSource<String>(host: "127.0.0.1", port: port, reconnectDelay: .milliseconds(50))
        let ssc = try makeContext()
        let collector = LineCollector()
        try ssc.inputStream(source).foreachBatch { batch, _, _ in collector.add(batch.collect()) }
        first.serve([Array("before\n".utf8)])
        try ssc.start()
        #expect(await collector.arrived.wait(for: 1))
        first.shutdown()
        // A new server on the same port: the source finds it by itself.
        let second = try LoopbackServer(port: port)
        defer { second.shutdown() }
        second.serve([Array("after restart\n".utf8)])
        let complete = await collector.arrived.wait(for: 2)
        await ssc.stop()
        #expect(complete)
        #expect(collector.lines.withLock { $0 } == ["before", "after restart"])
        #expect(source.connectionCount >= 2)
    }

    @Test func invalidUTF8LinesAreCountedAndSkipped() async throws {
        let server = try LoopbackServer()
        defer { server.shutdown() }
        let source = SocketLineSource<String>(host: "127.0.0.1", port: server.port)
        let logs = LogCapture()
        let ssc = try StreamingContext(
            batchInterval: .milliseconds(20),
            configuration: StreamingConfiguration(defaultParallelism: 2, logger: logs.logger))
        let collector = LineCollector()
        try ssc.inputStream(source).foreachBatch { batch, _, _ in collector.add(batch.collect()) }
        let bad: [UInt8] = [0xFF, 0xFE, 0x20, 0x62, 0x61, 0x64, 0x0A]
        server.serve([Array("good\n".utf8) + bad + Array("also good\n".utf8) + [0xC3, 0x0A] + Array("é ok\n".utf8)])
        try ssc.start()
        let complete = await collector.arrived.wait(for: 3)
        await ssc.stop()
        #expect(complete)
        #expect(collector.lines.withLock { $0 } == ["good", "also good", "é ok"])
        #expect(source.undecodableLines == 2)
        let warnings = logs.messages(at: .warning)
        #expect(warnings.contains { $0.contains("line 2 of connection 1 (byte offset 5)") })
        #expect(warnings.contains { $0.contains("line 4 of connection 1 (byte offset 22)") })
        // One progress line per batch at info level.
        #expect(logs.messages(at: .info).contains { $0.hasPrefix("batch ") && $0.contains("records, processing") })
    }

    @Test func byteLinesForTightLoops() async throws {
        let server = try LoopbackServer()
        defer { server.shutdown() }
        let ssc = try makeContext()
        let counts = NSLockedBox<[String: Int]>([:])
        let arrived = EventCounter()
        try ssc.socketLineStream(host: "127.0.0.1", port: server.port)
            .flatMap { line in line.split(separator: UInt8(ascii: " ")) }
            .map { ($0, 1) }
            .reduceByKey(+)
            .foreachBatch { batch, _, _ in
                for (word, count) in batch.collect() {
                    counts.withLock { $0[word.string, default: 0] += count }
                    for _ in 0..<count { arrived.increment() }
                }
            }
        server.serve([Array("a b a\nb c".utf8), Array("\na\n".utf8)])
        try ssc.start()
        let complete = await arrived.wait(for: 6)
        await ssc.stop()
        #expect(complete)
        #expect(counts.withLock { $0 } == ["a": 3, "b": 2, "c": 1])
    }

    @Test func unreachableServerDoesNotStopTheContext() async throws {
        // Nothing listens on the port of a server that was shut down.
        let server = try LoopbackServer()
        let port = server.port
        server.shutdown()
        let ssc = try makeContext()
        let batches = EventCounter()
        try ssc.socketTextStream(host: "127.0.0.1", port: port, reconnectDelay: .milliseconds(20)).foreachBatch { _, _, _ in
            batches.increment()
        }
        try ssc.start()
        #expect(await batches.wait(for: 3))
        #expect(ssc.state == .active)
        await ssc.stop()
    }
}

extension SocketStreamTests {
    @Test func readingPausesWhenBatchesFallBehind() async throws {
        let server = try LoopbackServer()
        defer { server.shutdown() }
        let line = Array("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrs\n".utf8)  // 66 bytes
        let lineCount = 30_000
        let chunk = Array([[UInt8]](repeating: line, count: 1000).joined())
        let source = SocketLineSource<ByteString>(bytesFrom: "127.0.0.1", port: server.port, maxPendingBytes: 64 * 1024)
        let ssc = try makeContext()
        let arrived = EventCounter()
        let largest = NSLockedBox(0)
        let intact = NSLockedBox(true)
        try ssc.inputStream(source).foreachBatch { batch, _, _ in
            let lines = batch.collect()
            largest.withLock { $0 = max($0, lines.count) }
            if !lines.allSatisfy({ $0.count == 65 }) { intact.withLock { $0 = false } }
            for _ in lines { arrived.increment() }
        }
        server.serve(Array(repeating: chunk, count: lineCount / 1000), pause: 0)
        try ssc.start()
        let complete = await arrived.wait(for: lineCount, timeout: .seconds(20))
        await ssc.stop()
        #expect(complete)
        #expect(intact.withLock { $0 })
        // At most the cap plus one read (256 KiB) per batch.
        let bound = (64 * 1024 + 256 * 1024) / 66 + 1
        let biggest = largest.withLock { $0 }
        #expect(biggest <= bound)
    }
}

extension SocketStreamTests {
    @Test func byteLinesCountTheUnterminatedLastLine() async throws {
        let server = try LoopbackServer()
        defer { server.shutdown() }
        let ssc = try makeContext()
        let collector = LineCollector()
        let counts = NSLockedBox<Int>(0)
        try ssc.socketLineStream(host: "127.0.0.1", port: server.port).foreachBatch { batch, _, _ in
            counts.withLock { $0 += batch.count() }
            collector.add(batch.collect().map(\.string))
        }
        server.serve([Array("x\r\n\ny".utf8)])
        try ssc.start()
        let complete = await collector.arrived.wait(for: 3)
        await ssc.stop()
        #expect(complete)
        #expect(collector.lines.withLock { $0 } == ["x", "", "y"])
        #expect(counts.withLock { $0 } == 3)
    }
}
