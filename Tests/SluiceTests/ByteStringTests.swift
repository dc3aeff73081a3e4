import Sluice
import SluiceTesting
import Testing

@Suite struct ByteStringTests {
    @Test func equalityHashingAndTokens() {
        let line = ByteString("  to be  or not to be ")
        let tokens = Array(line.tokens())
        #expect(tokens.map(\.string) == ["to", "be", "or", "not", "to", "be"])
        #expect(tokens[0] == tokens[4])
        #expect(tokens[0].hashValue == tokens[4].hashValue)
        #expect(tokens[0] != tokens[1])
        #expect(ByteString("") == ByteString(""))
        #expect(ByteString("a") < ByteString("b"))
        #expect(Set(tokens).count == 4)
        #expect(line.split(separator: UInt8(ascii: "o")).map(\.string) == ["  t", " be  ", "r n", "t t", " be "])
        #expect(SparkFormat.string((ByteString("word"), 3)) == "(word,3)")
    }

    /// countTokens against a plain String word count, on random lines.
    @Test func countTokensMatchesAStringWordCount() async throws {
        var random = SeededRandom(seed: 41)
        let vocabulary = ["a", "bb", "ccc", "dd", "e", "ffff", "é", "ü€"]
        for _ in 0..<100 {
            let input: [[ByteString]] = (0..<random.int(1...3)).map { _ in
                (0..<random.int(0...60)).map { _ in
                    let words = (0..<random.int(0...8)).map { _ in vocabulary[random.int(0...(vocabulary.count - 1))] }
                    return ByteString(String(repeating: " ", count: random.int(0...2)) + words.joined(separator: random.int(0...3) == 0 ? "  " : " "))
                }
            }
            let output = try await testOperation(input: input, partitions: random.int(1...4)) { $0.countTokens() }
            for (batch, result) in zip(input, output) {
                var expected: [String: Int] = [:]
                for line in batch {
                    for word in line.string.split(separator: " ") { expected[String(word), default: 0] += 1 }
                }
                #expect(multiset(result.map { "\($0.0.string)=\($0.1)" }) == multiset(expected.map { "\($0.key)=\($0.value)" }))
            }
        }
    }

    @Test func countTokensGrowsItsTable() async throws {
        // More distinct tokens than the table's initial capacity and arena.
        let line = ByteString((0..<20_000).map { "token\($0)" }.joined(separator: " "))
        let output = try await testOperation(input: [[line, line]], partitions: 1) { $0.countTokens() }
        #expect(output[0].count == 20_000)
        #expect(output[0].allSatisfy { $0.1 == 2 })
    }
}
