import Sluice
import SluiceTesting
import Testing

/// Each keyed operator against a plain dictionary computation over the same
/// batches (randomised, fixed seeds; keys repeat, some batches are empty and
/// some keys appear on one side of a join only). Keyed outputs have no
/// defined order, so they are compared as multisets; a key's grouped values
/// keep batch order and are compared exactly.
@Suite struct KeyedOperatorTests {
    static let cases = 200

    /// Values per key in batch order.
    static func grouped<V>(_ batch: [(String, V)]) -> [String: [V]] {
        var groups: [String: [V]] = [:]
        for (key, value) in batch { groups[key, default: []].append(value) }
        return groups
    }

    @Test func mapValues() async throws {
        var random = SeededRandom(seed: 21)
        for _ in 0..<Self.cases {
            let input = random.keyedBatches(batches: random.int(1...4))
            let output = try await testOperation(input: input) { $0.mapValues { $0 * 10 } }
            #expect(output.map { $0.map { "\($0.0)\($0.1)" } } == input.map { $0.map { "\($0.0)\($0.1 * 10)" } })
        }
    }

    @Test func flatMapValues() async throws {
        var random = SeededRandom(seed: 22)
        for _ in 0..<Self.cases {
            let input = random.keyedBatches(batches: random.int(1...4))
            let output = try await testOperation(input: input) { $0.flatMapValues { 0..<max(0, $0) } }
            var expected: [[String]] = []
            for batch in input {
                var out: [String] = []
                for (key, value) in batch where value > 0 {
                    for item in 0..<value { out.append("\(key)\(item)") }
                }
                expected.append(out)
            }
            #expect(output.map { $0.map { "\($0.0)\($0.1)" } } == expected)
        }
    }

    @Test func reduceByKey() async throws {
        var random = SeededRandom(seed: 23)
        for _ in 0..<Self.cases {
            let input = random.keyedBatches(batches: random.int(1...4))
            let partitions = random.int(1...4)
            let output = try await testOperation(input: input, partitions: random.int(1...3)) {
                $0.reduceByKey(+, partitions: partitions)
            }
            for (batch, result) in zip(input, output) {
                var sums: [String: Int] = [:]
                for (key, value) in batch { sums[key, default: 0] += value }
                #expect(multiset(result.map { "\($0.0)=\($0.1)" }) == multiset(sums.map { "\($0.key)=\($0.value)" }))
            }
        }
    }

    @Test func groupByKeyKeepsBatchOrderPerKey() async throws {
        var random = SeededRandom(seed: 24)
        for _ in 0..<Self.cases {
            let input = random.keyedBatches(batches: random.int(1...4))
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { $0.groupByKey() }
            for (batch, result) in zip(input, output) {
                let expected = Self.grouped(batch)
                #expect(result.count == expected.count)
                for (key, values) in result {
                    #expect(expected[key] == values)
                }
            }
        }
    }

    @Test func combineByKeyAveragePairs() async throws {
        var random = SeededRandom(seed: 25)
        for _ in 0..<Self.cases {
            let input = random.keyedBatches(batches: random.int(1...4))
            let output = try await testOperation(input: input, partitions: random.int(1...3)) { stream in
                stream.combineByKey(
                    createCombiner: { (sum: $0, count: 1) },
                    mergeValue: { (sum: $0.sum + $1, count: $0.count + 1) },
                    mergeCombiners: { (sum: $0.sum + $1.sum, count: $0.count + $1.count) })
            }
            for (batch, result) in zip(input, output) {
                let expected = Self.grouped(batch).map { "\($0.key):\($0.value.reduce(0, +))/\($0.value.count)" }
                #expect(multiset(result.map { "\($0.0):\($0.1.sum)/\($0.1.count)" }) == multiset(expected))
            }
        }
    }

    /// The independent join: nested loops over the two batches.
    static func nestedLoopJoin(_ left: [(String, Int)], _ right: [(String, Int)]) -> (inner: [String], left: [String], right: [String], full: [String]) {
        var inner: [String] = []
        var leftOuter: [String] = []
        var rightOuter: [String] = []
        for (lk, lv) in left {
            var matched = false
            for (rk, rv) in right where rk == lk {
                inner.append("\(lk):\(lv),\(rv)")
                matched = true
            }
            leftOuter += matched ? [] : ["\(lk):\(lv),nil"]
        }
        for (rk, rv) in right where !left.contains(where: { $0.0 == rk }) {
            rightOuter.append("\(rk):nil,\(rv)")
        }
        return (inner, inner + leftOuter, inner + rightOuter, inner + leftOuter + rightOuter)
    }

    static func render(_ key: String, _ v: Int?, _ w: Int?) -> String {
        "\(key):\(v.map(String.init) ?? "nil"),\(w.map(String.init) ?? "nil")"
    }

    @Test func joins() async throws {
        var random = SeededRandom(seed: 26)
        for _ in 0..<Self.cases {
            let count = random.int(1...4)
            // Different alphabets so that some keys are on one side only.
            let left = random.keyedBatches(batches: count, keys: "abcde")
            let right = random.keyedBatches(batches: count, keys: "cdefg")
            let inner = try await testOperation(input: left, right) { $0.join($1) }
            let leftOuter = try await testOperation(input: left, right) { $0.leftOuterJoin($1) }
            let rightOuter = try await testOperation(input: left, right) { $0.rightOuterJoin($1) }
            let fullOuter = try await testOperation(input: left, right) { $0.fullOuterJoin($1) }
            for index in 0..<count {
                let expected = Self.nestedLoopJoin(left[index], right[index])
                #expect(multiset(inner[index].map { Self.render($0.0, $0.1.0, $0.1.1) }) == multiset(expected.inner))
                #expect(multiset(leftOuter[index].map { Self.render($0.0, $0.1.0, $0.1.1) }) == multiset(expected.left))
                #expect(multiset(rightOuter[index].map { Self.render($0.0, $0.1.0, $0.1.1) }) == multiset(expected.right))
                #expect(multiset(fullOuter[index].map { Self.render($0.0, $0.1.0, $0.1.1) }) == multiset(expected.full))
            }
        }
    }

    @Test func cogroupListsBothSidesPerKey() async throws {
        var random = SeededRandom(seed: 27)
        for _ in 0..<Self.cases {
            let count = random.int(1...4)
            let left = random.keyedBatches(batches: count, keys: "abcde")
            let right = random.keyedBatches(batches: count, keys: "cdefg")
            let output = try await testOperation(input: left, right) { $0.cogroup($1) }
            for index in 0..<count {
                let l = Self.grouped(left[index])
                let r = Self.grouped(right[index])
                let keys = Set(l.keys).union(r.keys)
                #expect(output[index].count == keys.count)
                for (key, groups) in output[index] {
                    #expect(groups.0 == (l[key] ?? []))
                    #expect(groups.1 == (r[key] ?? []))
                }
            }
        }
    }

    @Test func joinWithOneSideEmpty() async throws {
        let output = try await testOperation(input: [[("a", 1)], []], [[], [("b", 2)]]) { $0.fullOuterJoin($1) }
        #expect(output.map { $0.map { Self.render($0.0, $0.1.0, $0.1.1) } } == [["a:1,nil"], ["b:nil,2"]])
        let inner = try await testOperation(input: [[("a", 1)], []], [[], [("b", 2)]]) { $0.join($1) }
        #expect(inner.map(\.count) == [0, 0])
    }

    @Test func wordCountFromDesign() async throws {
        let output = try await testOperation(input: [["a b a", "c"], [], ["b b"]]) { lines in
            lines.flatMap { $0.split(separator: " ") }.map { (String($0), 1) }.reduceByKey(+)
        }
        #expect(output.map { multiset($0.map { "\($0.0)=\($0.1)" }) } == [["a=2", "b=1", "c=1"], [], ["b=2"]])
    }
}
