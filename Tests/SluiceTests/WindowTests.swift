import Sluice
import SluiceTesting
import Testing

/// Window operators against brute force: every window recomputed from the
/// raw input batches. Batch i (1-based) runs at i·1 s; a window of length L
/// and slide S outputs at every t = k·S and holds batches with time in (t − L, t].
@Suite struct WindowTests {
    /// (length, slide) in seconds, including length = slide and slide > interval.
    static let shapes: [(Int, Int)] = [(1, 1), (2, 1), (3, 1), (3, 3), (4, 2), (6, 2), (6, 3), (5, 5)]

    /// The input batch indices (0-based) of each window output when `total` batches run.
    static func windows(length: Int, slide: Int, total: Int) -> [[Int]] {
        stride(from: slide, through: total, by: slide).map { t in
            Array(max(0, t - length)..<t)
        }
    }

    @Test func windowHoldsTheLastLengthBatches() async throws {
        var random = SeededRandom(seed: 51)
        for (length, slide) in Self.shapes {
            for _ in 0..<8 {
                let input = random.intBatches(batches: 4...7)
                let total = input.count + length + slide
                let output = try await testOperation(input: input, batches: total) {
                    $0.window(.seconds(length), slide: .seconds(slide))
                }
                let expected = Self.windows(length: length, slide: slide, total: total).map { indices in
                    indices.flatMap { $0 < input.count ? input[$0] : [] }
                }
                #expect(output == expected, "length \(length) slide \(slide)")
            }
        }
    }

    @Test func countAndReduceByWindow() async throws {
        var random = SeededRandom(seed: 52)
        for (length, slide) in Self.shapes {
            for _ in 0..<8 {
                let input = random.intBatches(batches: 4...7)
                let total = input.count + length + slide
                let windows = Self.windows(length: length, slide: slide, total: total).map { indices in
                    indices.flatMap { $0 < input.count ? input[$0] : [] }
                }
                let counts = try await testOperation(input: input, batches: total) {
                    $0.countByWindow(.seconds(length), slide: .seconds(slide))
                }
                #expect(counts == windows.map { [$0.count] })
                let plain = try await testOperation(input: input, batches: total) {
                    $0.reduceByWindow(+, .seconds(length), slide: .seconds(slide))
                }
                let inverse = try await testOperation(input: input, batches: total) {
                    $0.reduceByWindow(+, inverse: -, .seconds(length), slide: .seconds(slide))
                }
                let expected = windows.map { $0.isEmpty ? [] : [$0.reduce(0, +)] }
                #expect(plain == expected, "length \(length) slide \(slide)")
                #expect(inverse == expected, "length \(length) slide \(slide)")
            }
        }
    }

    /// Sums per key in a window, by brute force.
    static func keyedSums(_ input: [[(String, Int)]], _ indices: [Int]) -> [String: Int] {
        var sums: [String: Int] = [:]
        for index in indices where index < input.count {
            for (key, value) in input[index] { sums[key, default: 0] += value }
        }
        return sums
    }

    static func render(_ pairs: [(String, Int)]) -> [String] {
        multiset(pairs.map { "\($0.0)=\($0.1)" })
    }

    @Test func reduceByKeyAndWindowWithAndWithoutInverse() async throws {
        var random = SeededRandom(seed: 53)
        for (length, slide) in Self.shapes {
            for _ in 0..<8 {
                // Keys vanish and come back: some batches use a different alphabet.
                let input = (0..<random.int(4...8)).map { _ in
                    random.keyedBatches(batches: 1, keys: random.int(0...1) == 0 ? "abc" : "cdef")[0]
                }
                let total = input.count + length + slide
                let partitions = random.int(1...3)
                let windows = Self.windows(length: length, slide: slide, total: total)
                let plain = try await testOperation(input: input, batches: total) {
                    $0.reduceByKeyAndWindow(+, .seconds(length), slide: .seconds(slide), partitions: partitions)
                }
                let inverse = try await testOperation(input: input, batches: total) {
                    $0.reduceByKeyAndWindow(+, inverse: -, .seconds(length), slide: .seconds(slide), partitions: partitions)
                }
                for (index, window) in windows.enumerated() {
                    let expected = Self.keyedSums(input, window)
                    #expect(Self.render(plain[index]) == Self.render(expected.map { ($0.key, $0.value) }))
                    // Without a filter, keys that left the window stay (Spark's behaviour); their sum is 0.
                    let present = Dictionary(inverse[index], uniquingKeysWith: { a, _ in a })
                    for (key, value) in expected { #expect(present[key] == value) }
                    for (key, value) in present where expected[key] == nil { #expect(value == 0) }
                }
            }
        }
    }

    @Test func maxByKeyAndWindowWithoutInverse() async throws {
        var random = SeededRandom(seed: 56)
        for (length, slide) in Self.shapes {
            for _ in 0..<8 {
                let input = random.keyedBatches(batches: random.int(4...8), keys: "abcd")
                let total = input.count + length + slide
                let output = try await testOperation(input: input, batches: total) {
                    $0.reduceByKeyAndWindow(max, .seconds(length), slide: .seconds(slide))
                }
                for (index, window) in Self.windows(length: length, slide: slide, total: total).enumerated() {
                    var maxima: [String: Int] = [:]
                    for batch in window where batch < input.count {
                        for (key, value) in input[batch] { maxima[key] = max(maxima[key] ?? value, value) }
                    }
                    #expect(Self.render(output[index]) == Self.render(maxima.map { ($0.key, $0.value) }), "length \(length) slide \(slide)")
                }
            }
        }
    }

    @Test func countsWithInverseAndFilterEqualPlainRecomputation() async throws {
        var random = SeededRandom(seed: 54)
        for (length, slide) in Self.shapes {
            for _ in 0..<8 {
                let input = (0..<random.int(4...8)).map { _ in
                    random.intBatches(batches: 1...1, maxSize: 8, values: 0...4)[0]
                }
                let total = input.count + length + slide
                let windows = Self.windows(length: length, slide: slide, total: total)
                let incremental = try await testOperation(input: input, batches: total) {
                    $0.countByValueAndWindow(.seconds(length), slide: .seconds(slide), partitions: 2)
                }
                let filtered = try await testOperation(input: input, batches: total) {
                    $0.map { ($0, 1) }.reduceByKeyAndWindow(
                        +, inverse: -, .seconds(length), slide: .seconds(slide), filter: { $0.1 != 0 })
                }
                for (index, window) in windows.enumerated() {
                    var counts: [Int: Int] = [:]
                    for batch in window where batch < input.count {
                        for value in input[batch] { counts[value, default: 0] += 1 }
                    }
                    let expected = multiset(counts.map { "\($0.key)=\($0.value)" })
                    #expect(multiset(incremental[index].map { "\($0.0)=\($0.1)" }) == expected)
                    #expect(multiset(filtered[index].map { "\($0.0)=\($0.1)" }) == expected)
                }
            }
        }
    }

    @Test func groupByKeyAndWindowKeepsTimeOrder() async throws {
        var random = SeededRandom(seed: 55)
        for (length, slide) in Self.shapes {
            let input = random.keyedBatches(batches: 6)
            let total = input.count + length
            let output = try await testOperation(input: input, batches: total) {
                $0.groupByKeyAndWindow(.seconds(length), slide: .seconds(slide))
            }
            for (index, window) in Self.windows(length: length, slide: slide, total: total).enumerated() {
                var groups: [String: [Int]] = [:]
                for batch in window where batch < input.count {
                    for (key, value) in input[batch] { groups[key, default: []].append(value) }
                }
                #expect(output[index].count == groups.count)
                for (key, values) in output[index] { #expect(groups[key] == values) }
            }
        }
    }

    @Test func windowsThatAreNotMultiplesFailAtStart() throws {
        let driver = try StreamTestDriver()
        try driver.context.queueStream([[1]]).window(.milliseconds(2500), slide: .seconds(1)).print(to: CapturingSink())
        #expect {
            try driver.start()
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .invalidDuration
                && error?.message.contains("2.5 seconds") == true && error?.message.contains("1.0 seconds") == true
        }
    }

    @Test func windowedBatchesAreForgottenOnceNoWindowNeedsThem() async throws {
        // With length 3 s and slide 1 s, batches older than 2 s are dropped;
        // the window keeps working over a long run.
        let input = (1...20).map { [$0] }
        let output = try await testOperation(input: input) { $0.window(.seconds(3)).reduce(+) }
        #expect(output == (1...20).map { t in [(max(1, t - 2)...t).reduce(0, +)] })
    }
}
