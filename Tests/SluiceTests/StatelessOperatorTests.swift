import Sluice
import SluiceTesting
import Testing

/// Each stateless operator, batch by batch on a manual clock, against a
/// plain computation over the same input (randomised, fixed seeds).
@Suite struct StatelessOperatorTests {
    static let cases = 200

    @Test func mapKeepsOrder() async throws {
        var random = SeededRandom(seed: 1)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { $0.map { $0 * 3 + 1 } }
            #expect(output == input.map { batch in batch.map { $0 * 3 + 1 } })
        }
    }

    @Test func flatMapKeepsOrder() async throws {
        var random = SeededRandom(seed: 2)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { stream in
                stream.flatMap { value in Array(repeating: value, count: abs(value) % 3) }
            }
            var expected: [[Int]] = []
            for batch in input {
                var out: [Int] = []
                for value in batch {
                    for _ in 0..<(abs(value) % 3) { out.append(value) }
                }
                expected.append(out)
            }
            #expect(output == expected)
        }
    }

    @Test func filterKeepsOrder() async throws {
        var random = SeededRandom(seed: 3)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { $0.filter { $0 % 2 == 0 } }
            var expected: [[Int]] = []
            for batch in input {
                var out: [Int] = []
                for value in batch where value % 2 == 0 { out.append(value) }
                expected.append(out)
            }
            #expect(output == expected)
        }
    }

    @Test func mapPartitionsSeesEachPartition() async throws {
        var random = SeededRandom(seed: 4)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let partitions = random.int(1...3)
            let output = try await testOperation(input: input, partitions: partitions) { stream in
                stream.mapPartitions { elements in [elements.reduce(0, +)] }
            }
            // queueStream splits a batch of n elements into min(p, n) (at least 1) contiguous partitions.
            let expected = input.map { batch -> [Int] in
                let n = max(1, min(partitions, batch.count))
                return (0..<n).map { i in batch[(batch.count * i / n)..<(batch.count * (i + 1) / n)].reduce(0, +) }
            }
            #expect(output == expected)
        }
    }

    @Test func transformAppliesBatchFunction() async throws {
        var random = SeededRandom(seed: 5)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let output = try await testOperation(input: input) { stream in
                stream.transform { batch in Batch(batch.collect().sorted().reversed()) }
            }
            #expect(output == input.map { Array($0.sorted().reversed()) })
        }
    }

    @Test func unionConcatenatesBothSides() async throws {
        var random = SeededRandom(seed: 6)
        for _ in 0..<Self.cases {
            let count = random.int(1...5)
            let first = random.intBatches(batches: count...count)
            let second = random.intBatches(batches: count...count)
            let output = try await testOperation(input: first, second) { $0.union($1) }
            #expect(output == zip(first, second).map { $0 + $1 })
        }
    }

    @Test func countGivesOneElementEvenForEmptyBatches() async throws {
        var random = SeededRandom(seed: 7)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { $0.count() }
            #expect(output == input.map { [$0.count] })
        }
    }

    @Test func countByValueCountsEachDistinctValue() async throws {
        var random = SeededRandom(seed: 8)
        for _ in 0..<Self.cases {
            let input = random.intBatches(values: 0...5)
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { $0.countByValue() }
            for (batch, result) in zip(input, output) {
                var counts: [Int: Int] = [:]
                for value in batch { counts[value, default: 0] += 1 }
                #expect(multiset(result.map { "\($0.0)=\($0.1)" }) == multiset(counts.map { "\($0.key)=\($0.value)" }))
            }
        }
    }

    @Test func reduceGivesNothingForEmptyBatches() async throws {
        var random = SeededRandom(seed: 9)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { $0.reduce(+) }
            #expect(output == input.map { $0.isEmpty ? [] : [$0.reduce(0, +)] })
        }
    }

    @Test func repartitionKeepsEveryElement() async throws {
        var random = SeededRandom(seed: 10)
        for _ in 0..<Self.cases {
            let input = random.intBatches()
            let target = random.int(1...4)
            let partitionCounts = NSLockedBox<[Int]>([])
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { stream in
                stream.repartition(target).transform { batch in
                    partitionCounts.withLock { $0.append(batch.partitions.count) }
                    return batch
                }
            }
            #expect(output.map(multiset) == input.map(multiset))
            #expect(partitionCounts.withLock { $0 } == Array(repeating: target, count: input.count))
        }
    }

    @Test func persistComputesUpstreamOnce() async throws {
        let calls = NSLockedBox(0)
        let driver = try StreamTestDriver()
        let stream = driver.context.queueStream([[1, 2, 3], [4]], partitions: 1)
            .map { value -> Int in
                calls.withLock { $0 += 1 }
                return value * 2
            }
            .persist()
        let first = OutputCollector<Int>()
        let second = OutputCollector<Int>()
        try stream.foreachBatch { batch, time, _ in first.append(time: time, elements: batch.collect()) }
        try stream.map { $0 + 1 }.foreachBatch { batch, time, _ in second.append(time: time, elements: batch.collect()) }
        try driver.start()
        try await driver.runBatches(2)
        await driver.stop()
        #expect(first.batches == [[2, 4, 6], [8]])
        #expect(second.batches == [[3, 5, 7], [9]])
        #expect(calls.withLock { $0 } == 4)
    }
}
