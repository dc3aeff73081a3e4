import Foundation
import Sluice
import SluiceTesting
import Testing

/// `SocketTokenCountSource` over real loopback TCP, batch by batch on a
/// manual clock: each batch must hold exactly the counts of the lines
/// received before it, computed here by splitting the lines with the
/// standard library.
@Suite(.serialized) struct SocketTokenCountTests {
    /// Counts of `line.split(" ")`'s non-empty parts over every line (a
    /// trailing `\r` belongs to the line ending, not to the last token).
    static func expectedCounts(_ lines: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in lines {
            let text = line.hasSuffix("\r") ? String(line.dropLast()) : line
            for word in text.split(separator: " ", omittingEmptySubsequences: true) {
                counts[String(word), default: 0] += 1
            }
        }
        return counts
    }

    /// Random lines of words from a small vocabulary, with runs of spaces,
    /// empty lines and `\r\n` endings.
    static func randomLines(_ count: Int, using random: inout SeededRandom) -> [String] {
        let vocabulary = ["a", "bb", "ccc", "dddd", "é", "the", "of", "x1", "longer-word", "🙂"]
        return (0..<count).map { _ in
            var line = (0..<random.int(0...8)).map { _ in
                vocabulary[random.int(0...(vocabulary.count - 1))] + String(repeating: " ", count: random.int(0...2))
            }.joined(separator: " ")
            if random.int(0...5) == 0 { line = " " + line }
            if random.int(0...4) == 0 { line += "\r" }
            return line
        }
    }

    /// The payload of `lines` cut into pieces of random sizes, so that lines
    /// are split across reads.
    static func pieces(of lines: [String], using random: inout SeededRandom) -> [[UInt8]] {
        let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
        var result: [[UInt8]] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + random.int(1...200))
            result.append(Array(bytes[start..<end]))
            start = end
        }
        return result
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func eachBatchHoldsTheCountsOfTheLinesReceivedBeforeIt(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        let server = try LoopbackServer()
        defer { server.shutdown() }
        let source = SocketTokenCountSource(host: "127.0.0.1", port: server.port, reconnectDelay: .milliseconds(20))
        let driver = try StreamTestDriver(batchInterval: .seconds(1))
        let collector = OutputCollector<(ByteString, Int)>()
        try driver.context.inputStream(source).foreachBatch { batch, time, _ in
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()

        // Three connections' worth of lines, an empty batch between the second and third.
        let groups = [Self.randomLines(random.int(50...400), using: &random),
                      Self.randomLines(random.int(1...50), using: &random),
                      [],
                      Self.randomLines(random.int(200...2000), using: &random)]
        var received = 0
        for lines in groups {
            if !lines.isEmpty {
                server.serve(Self.pieces(of: lines, using: &random), pause: 0)
                received += lines.count
                #expect(source.waitUntilCounted(lines: received, timeout: .seconds(10)))
            }
            try await driver.runBatches(1)
        }
        await driver.stop()

        let batches = collector.batches
        #expect(batches.count == groups.count)
        for (index, lines) in groups.enumerated() where index < batches.count {
            var counted: [String: Int] = [:]
            for (token, count) in batches[index] {
                #expect(counted[token.string] == nil, "token \(token.string) output twice in batch \(index)")
                counted[token.string] = count
            }
            #expect(counted == Self.expectedCounts(lines), "batch \(index)")
        }
        // A batch's records are its lines, not its distinct tokens.
        #expect(driver.completedInfos.map(\.numRecords) == groups.map(\.count))
    }

    @Test func sameCountsAsCountTokensOverTheLineStream() async throws {
        var random = SeededRandom(seed: 42)
        let lines = Self.randomLines(3000, using: &random)
        let payload = Self.pieces(of: lines, using: &random)
        func run(_ makeStream: (StreamingContext, Int) -> DStream<(ByteString, Int)>) async throws -> [String: Int] {
            let server = try LoopbackServer()
            defer { server.shutdown() }
            let driver = try StreamTestDriver(batchInterval: .seconds(1))
            let collector = OutputCollector<(ByteString, Int)>()
            try makeStream(driver.context, server.port).foreachBatch { batch, time, _ in
                collector.append(time: time, elements: batch.collect())
            }
            let served = EventCounter()
            try driver.start()
            server.serve(payload, pause: 0) { served.increment() }
            #expect(await served.wait(for: 1))
            // Batches until the source has seen every line (the peer closed).
            var total: [String: Int] = [:]
            for _ in 0..<200 {
                try await driver.runBatches(1)
                total = [:]
                for batch in collector.batches {
                    for (token, count) in batch { total[token.string, default: 0] += count }
                }
                if total == Self.expectedCounts(lines) { break }
            }
            await driver.stop()
            return total
        }
        let arriving = try await run { context, port in context.socketTokenCounts(host: "127.0.0.1", port: port) }
        let afterwards = try await run { context, port in
            context.socketLineStream(host: "127.0.0.1", port: port).countTokens()
        }
        #expect(arriving == Self.expectedCounts(lines))
        #expect(arriving == afterwards)
    }
}
