@testable import Sluice
import Testing

/// The byte-keyed token table against a plain split-and-count, on lines
/// built to hit its edges: tokens shorter than, equal to and longer than a
/// word (eight bytes), tokens that share their first eight bytes, NUL bytes
/// inside tokens, runs of separators, and lines that end inside a word with
/// more bytes after them in memory (a table that reads past the line's end
/// counts those bytes too).
@Suite struct TokenCountTableTests {
    /// Counts by splitting into arrays: the obvious way.
    private func expectedCounts(_ lines: [[UInt8]], separator: UInt8) -> [[UInt8]: Int] {
        var counts: [[UInt8]: Int] = [:]
        for line in lines {
            for token in line.split(separator: separator, omittingEmptySubsequences: true) {
                counts[Array(token), default: 0] += 1
            }
        }
        return counts
    }

    /// Tokens whose counts differ, for a short failure message.
    private func differences(_ table: TokenCountTable, _ lines: [[UInt8]], separator: UInt8) -> [String] {
        let actual = tableCounts(table)
        let expected = expectedCounts(lines, separator: separator)
        return Set(actual.keys).union(expected.keys).filter { actual[$0] != expected[$0] }.prefix(3)
            .map { "\($0): counted \(actual[$0] ?? 0), expected \(expected[$0] ?? 0)" }
    }

    private func tableCounts(_ table: TokenCountTable) -> [[UInt8]: Int] {
        var counts: [[UInt8]: Int] = [:]
        for (token, count) in table.entries() {
            #expect(counts[Array(token.bytes)] == nil, "token \(token) listed twice")
            counts[Array(token.bytes)] = count
        }
        return counts
    }

    @Test(arguments: [UInt8(ascii: " "), UInt8(ascii: ","), 0])
    func countsMatchSplitting(separator: UInt8) {
        var random = SeededRandom(seed: 7 &+ UInt64(separator))
        // Shared long prefixes, lengths around 8 and 16, NUL and high bytes.
        let stems: [[UInt8]] = [Array("abcdefgh".utf8), Array("abc".utf8), [0xC3, 0xA9], [0, 1], Array("xyzxyzxyzxyzxyz".utf8)]
        let filler = separator == 0 ? UInt8(ascii: "q") : 0
        for _ in 0..<300 {
            // A small table so the cases also grow it.
            let table = TokenCountTable(capacity: 4)
            var lines: [[UInt8]] = []
            for _ in 0..<random.int(1...6) {
                var line: [UInt8] = []
                for _ in 0..<random.int(0...12) {
                    for _ in 0..<random.int(0...2) { line.append(separator) }
                    var token = stems[random.int(0...(stems.count - 1))]
                    for _ in 0..<random.int(0...10) { token.append([UInt8(ascii: "k"), filler, 0xFF, UInt8(random.int(1...9))][random.int(0...3)]) }
                    token = token.filter { $0 != separator }
                    if token.isEmpty { token = [UInt8(ascii: "e")] }
                    line += token
                }
                if random.int(0...1) == 0 { line.append(separator) }
                lines.append(line)
                // Bytes after the line's end that are not separators.
                let memory = line + Array(repeating: UInt8(ascii: "Z"), count: random.int(0...9))
                memory.withUnsafeBytes { bytes in
                    table.countTokens(in: UnsafeRawBufferPointer(rebasing: bytes[0..<line.count]), separator: separator)
                }
            }
            let wrong = differences(table, lines, separator: separator)
            #expect(wrong.isEmpty, "lines \(lines): \(wrong)")
            if !wrong.isEmpty { return }
        }
    }

    @Test func manyDistinctTokensOfEveryLength() {
        let table = TokenCountTable(capacity: 2)
        var lines: [[UInt8]] = []
        for length in 1...40 {
            let line = (0..<300).map { index in Array("\(index)-".utf8) + Array(repeating: UInt8(ascii: "t"), count: length) }
                .joined(separator: [UInt8(ascii: " ")])
            lines.append(Array(line))
            lines.append(Array(line))
        }
        for line in lines { line.withUnsafeBytes { table.countTokens(in: $0, separator: UInt8(ascii: " ")) } }
        let counts = tableCounts(table)
        #expect(counts.count == 40 * 300)
        #expect(differences(table, lines, separator: UInt8(ascii: " ")).isEmpty)
    }

    @Test func emptyAndSeparatorOnlyLinesCountNothing() {
        let table = TokenCountTable()
        for line in [[], [UInt8(ascii: " ")], Array(repeating: UInt8(ascii: " "), count: 17)] as [[UInt8]] {
            line.withUnsafeBytes { table.countTokens(in: $0, separator: UInt8(ascii: " ")) }
        }
        #expect(table.entries().isEmpty)
    }

    /// Partial tables merged slot by slot: every token once, in one output
    /// partition, with the sum of its counts; the same token lands in the
    /// same partition whichever tables it came from.
    @Test func mergedTablesSumEachTokenIntoOnePartition() async {
        var random = SeededRandom(seed: 99)
        var partitionOfToken: [[UInt8]: [Int: Int]] = [:]
        for _ in 0..<60 {
            let partitionCount = random.int(1...4)
            var expected: [[UInt8]: Int] = [:]
            var tables: [TokenCountTable] = []
            for _ in 0..<random.int(0...5) {
                let table = TokenCountTable(capacity: 2)
                var line: [UInt8] = []
                for _ in 0..<random.int(0...200) {
                    let token = Array("w\(random.int(0...300))".utf8) + Array(repeating: UInt8(ascii: "x"), count: random.int(0...12))
                    expected[token, default: 0] += 1
                    line += token + [UInt8(ascii: " ")]
                }
                line.withUnsafeBytes { table.countTokens(in: $0, separator: UInt8(ascii: " ")) }
                tables.append(table)
            }
            let merged = await TokenCountTable.merged(tables, partitionCount: partitionCount)
            #expect(merged.partitions.count == partitionCount)
            var actual: [[UInt8]: Int] = [:]
            for (index, partition) in merged.partitions.enumerated() {
                for (token, count) in partition.collect() {
                    let key = Array(token.bytes)
                    #expect(actual[key] == nil, "token \(token) in two partitions")
                    actual[key] = count
                    if let earlier = partitionOfToken[key]?[partitionCount] {
                        #expect(earlier == index, "token \(token) moved between partitions")
                    }
                    partitionOfToken[key, default: [:]][partitionCount] = index
                }
            }
            #expect(actual == expected)
        }
    }
}
