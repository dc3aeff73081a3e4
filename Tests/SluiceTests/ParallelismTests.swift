import Sluice
import SluiceTesting
import Testing

/// Work is spread over partitions and cores; results equal a one-partition
/// run. Narrow operators keep element order exactly; keyed operators are
/// compared as multisets (their order is unspecified).
@Suite struct ParallelismTests {
    static func job(_ lines: DStream<String>) -> DStream<(String, Int)> {
        lines.flatMap { $0.split(separator: " ") }
            .map { (String($0), 1) }
            .reduceByKey(+)
            .filter { $0.1 > 1 }
            .mapValues { $0 * 2 }
    }

    @Test func manyPartitionsEqualOne() async throws {
        var random = SeededRandom(seed: 31)
        let words = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
        for _ in 0..<30 {
            let input: [[String]] = (0..<3).map { _ in
                (0..<random.int(0...200)).map { _ in
                    (0..<random.int(1...8)).map { _ in words[random.int(0...9)] }.joined(separator: " ")
                }
            }
            let single = try await testOperation(input: input, partitions: 1) { Self.job($0) }
            let parallel = try await testOperation(input: input, partitions: 8) { Self.job($0) }
            #expect(single.map { multiset($0.map { "\($0.0)=\($0.1)" }) } == parallel.map { multiset($0.map { "\($0.0)=\($0.1)" }) })
            let narrowSingle = try await testOperation(input: input, partitions: 1) { $0.map { $0.count } }
            let narrowParallel = try await testOperation(input: input, partitions: 8) { $0.map { $0.count } }
            #expect(narrowSingle == narrowParallel)
        }
    }

    @Test func keyedOperatorsUseTheRequestedPartitions() async throws {
        let counts = NSLockedBox<[Int]>([])
        _ = try await testOperation(input: [[("a", 1), ("b", 2), ("c", 3)]], partitions: 3) { stream in
            stream.reduceByKey(+, partitions: 5).transform { batch in
                counts.withLock { $0.append(batch.partitions.count) }
                return batch
            }
        }
        #expect(counts.withLock { $0 } == [5])
    }

    @Test func batchShuffleMatchesDictionary() async {
        var random = SeededRandom(seed: 32)
        for _ in 0..<100 {
            let pairs = (0..<random.int(0...300)).map { _ in (random.int(0...30), random.int(-5...5)) }
            let batch = Batch(pairs, partitionCount: random.int(1...6))
            let reduced = await batch.combineByKey(
                createCombiner: { $0 }, mergeValue: { $0 + $1 }, mergeCombiners: { $0 + $1 },
                partitionCount: random.int(1...6))
            var expected: [Int: Int] = [:]
            for (key, value) in pairs { expected[key, default: 0] += value }
            let actual = reduced.collect()
            #expect(actual.count == expected.count)
            #expect(Dictionary(actual, uniquingKeysWith: { _, _ in Int.min }) == expected)
        }
    }
}
