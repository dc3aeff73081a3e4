import Foundation
@testable import Sluice
import Testing

/// The buffer behind `SocketTokenCountSource`: whatever the timing of a
/// batch's cut against the counting threads, every received line is in
/// exactly one batch, counted or handed over uncounted.
@Suite struct ArrivingTokenCountsTests {
    static func chunk(_ lines: [String], firstLine: Int) -> LineChunk {
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        return LineChunk(bytes: bytes, connection: 1, firstLine: firstLine, firstByteOffset: 0, lineCount: lines.count)
    }

    /// Token counts of what one take handed over, uncounted chunks counted here by `split`.
    static func total(_ taken: ArrivingTokenCounts.Taken) -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in taken.counted {
            for (token, count) in table.entries() { counts[token.string, default: 0] += count }
        }
        for chunk in taken.uncounted {
            chunk.forEachLine { line, _, _ in
                for word in line.split(separator: UInt8(ascii: " ")) {
                    counts[String(decoding: word, as: UTF8.self), default: 0] += 1
                }
            }
        }
        return counts
    }

    @Test func withoutWorkersEverythingIsHandedOverUncounted() {
        let counts = ArrivingTokenCounts(separator: UInt8(ascii: " "), maxQueuedBytes: 1 << 20)
        counts.accept(Self.chunk(["a b", "b"], firstLine: 1))
        counts.accept(Self.chunk(["c  a"], firstLine: 3))
        let taken = counts.take()
        #expect(taken.counted.isEmpty)
        #expect(taken.uncounted.count == 2)
        #expect(taken.lines == 3)
        #expect(Self.total(taken) == ["a": 2, "b": 2, "c": 1])
        #expect(counts.take().lines == 0)
        #expect(counts.pendingBytes == 0)
        #expect(counts.linesReceived == 3)
    }

    @Test(arguments: [UInt64(7), 8, 9, 10])
    func cutsWhileCountingLoseAndDoubleNothing(seed: UInt64) async {
        var random = SeededRandom(seed: seed)
        let counts = ArrivingTokenCounts(separator: UInt8(ascii: " "), maxQueuedBytes: 1 << 20)
        counts.startWorkers(2, name: "test")
        defer { counts.stopWorkers() }
        var expected: [String: Int] = [:]
        var handedOver: [String: Int] = [:]
        var lines = 0
        var takenLines = 0
        for index in 0..<150 {
            // Chunks big enough that a cut often comes while a worker counts one.
            let chunkLines = (0..<random.int(1...2000)).map { _ in
                (0..<random.int(0...6)).map { _ in "w\(random.int(0...40))" }.joined(separator: " ")
            }
            for line in chunkLines {
                for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 }
            }
            counts.accept(Self.chunk(chunkLines, firstLine: lines + 1))
            lines += chunkLines.count
            if index % random.int(1...8) == 0 {
                let taken = counts.take()
                takenLines += taken.lines
                handedOver.merge(Self.total(taken), uniquingKeysWith: +)
            }
        }
        let last = counts.take()
        takenLines += last.lines
        handedOver.merge(Self.total(last), uniquingKeysWith: +)
        #expect(handedOver == expected)
        #expect(takenLines == lines)
        #expect(counts.linesReceived == lines)
    }

    @Test func countedChunksAreNotHeld() {
        let counts = ArrivingTokenCounts(separator: UInt8(ascii: " "), maxQueuedBytes: 1 << 30)
        counts.startWorkers(2, name: "test")
        defer { counts.stopWorkers() }
        for index in 0..<50 {
            counts.accept(Self.chunk(Array(repeating: "some words here", count: 100), firstLine: index * 100 + 1))
        }
        #expect(counts.waitUntilCounted(lines: 5000, timeout: .seconds(10)))
        #expect(counts.pendingBytes == 0)
        // Counted, not taken by a batch yet: only the counts are kept, not the lines.
        #expect(counts.heldBytes == 0)
        #expect(counts.take().lines == 5000)
    }
}
