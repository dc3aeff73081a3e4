import Sluice
import SluiceTesting
import Testing

/// mapWithState against a replay of every key's history in plain code.
@Suite struct MapWithStateTests {
    /// Running sum per key; a value of 0 removes the key; timing-out keys
    /// map to (key, Int.min).
    static let spec = StateSpec.function { (key: String, value: Int?, state: inout MapState<Int>) -> (String, Int)? in
        if state.isTimingOut { return (key, Int.min) }
        guard let value else { return nil }
        if value == 0 {
            state.remove()
            return (key, 0)
        }
        let total = (state.get() ?? 0) + value
        state.update(total)
        return (key, total)
    }

    /// Brute force: (mapped per batch, state after each batch).
    static func replay(_ input: [[(String, Int)]], batches: Int, timeoutBatches: Int?, initial: [String: Int] = [:])
        -> (mapped: [[String]], states: [[String]])
    {
        var state = initial
        var lastTouched: [String: Int] = initial.mapValues { _ in 1 }
        var mapped: [[String]] = []
        var states: [[String]] = []
        for batch in 1...batches {
            var out: [String] = []
            for (key, value) in batch <= input.count ? input[batch - 1] : [] {
                if value == 0 {
                    state[key] = nil
                    out.append("\(key)=0")
                } else {
                    let total = (state[key] ?? 0) + value
                    state[key] = total
                    out.append("\(key)=\(total)")
                }
                if state[key] != nil { lastTouched[key] = batch } else { lastTouched[key] = nil }
            }
            if let timeoutBatches {
                // Idle longer than the timeout: touched before batch − timeout.
                for (key, touched) in lastTouched.sorted(by: { $0.key < $1.key }) where touched < batch - timeoutBatches {
                    out.append("\(key)=\(Int.min)")
                    state[key] = nil
                    lastTouched[key] = nil
                }
            }
            mapped.append(out)
            states.append(multiset(state.map { "\($0.key)=\($0.value)" }))
        }
        return (mapped, states)
    }

    func run(_ input: [[(String, Int)]], batches: Int, spec: StateSpec<String, Int, Int, (String, Int)>)
        async throws -> (mapped: [[String]], states: [[String]])
    {
        let driver = try StreamTestDriver()
        let mapped = OutputCollector<String>()
        let states = OutputCollector<String>()
        let streams = driver.context.queueStream(input, partitions: 2).mapWithState(spec)
        try streams.mapped.foreachBatch { batch, time, _ in mapped.append(time: time, elements: batch.collect().map { "\($0.0)=\($0.1)" }) }
        try streams.stateSnapshots.foreachBatch { batch, time, _ in states.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" })) }
        try driver.start()
        try await driver.runBatches(batches)
        await driver.stop()
        return (mapped.batches, states.batches)
    }

    @Test func runningStateMatchesReplay() async throws {
        var random = SeededRandom(seed: 61)
        for _ in 0..<100 {
            let input = random.keyedBatches(batches: random.int(1...6), keys: "abcde").map { batch in
                batch.map { ($0.0, $0.1 == 0 ? 0 : abs($0.1)) }
            }
            let result = try await run(input, batches: input.count + 1, spec: Self.spec)
            let expected = Self.replay(input, batches: input.count + 1, timeoutBatches: nil)
            // Records of timing-out keys come after the batch's records, in no set order.
            #expect(result.mapped == expected.mapped)
            #expect(result.states == expected.states)
        }
    }

    @Test func timeoutsFireOncePerIdleKeyAtTheFirstBatchAfterTheTimeout() async throws {
        var random = SeededRandom(seed: 62)
        for _ in 0..<100 {
            let timeout = random.int(1...3)
            let input = random.keyedBatches(batches: random.int(2...8), maxSize: 4, keys: "abcdefgh").map { batch in
                batch.map { ($0.0, abs($0.1) + 1) }
            }
            let batches = input.count + timeout + 2
            let result = try await run(input, batches: batches, spec: Self.spec.timeout(.seconds(timeout)))
            let expected = Self.replay(input, batches: batches, timeoutBatches: timeout)
            #expect(result.mapped.map { multiset($0) } == expected.mapped.map { multiset($0) })
            #expect(result.states == expected.states)
            // Between two timeouts of a key there is a record of it: one timeout per idle period.
            var idle: Set<String> = []
            for (index, batch) in result.mapped.enumerated() {
                let seen = Set((index < input.count ? input[index] : []).map(\.0))
                idle.subtract(seen)
                for record in batch where record.hasSuffix("=\(Int.min)") {
                    let key = String(record.prefix { $0 != "=" })
                    #expect(!idle.contains(key))
                    idle.insert(key)
                }
            }
        }
    }

    /// `stateSnapshots` lends the store's dictionary (copy-on-write) instead
    /// of copying every entry: its batches are lazy partitions over the
    /// store's storage, and each batch's snapshot must still read as the
    /// state after that batch when later batches have changed the store —
    /// read at once, kept (every other batch, so that both a snapshot
    /// still held and one let go are released) and read after the run, or
    /// remembered for a window over two batches.
    @Test func snapshotsShareTheStoreAndKeepTheirBatchsStateAfterLaterUpdates() async throws {
        var random = SeededRandom(seed: 64)
        for _ in 0..<50 {
            let input = random.keyedBatches(batches: random.int(2...6), keys: "abcde").map { batch in
                batch.map { ($0.0, $0.1 == 0 ? 0 : abs($0.1)) }
            }
            let batches = input.count + 1
            let driver = try StreamTestDriver()
            let streams = driver.context.queueStream(input, partitions: 2).mapWithState(Self.spec.timeout(.seconds(2)))
            let snapshots = streams.stateSnapshots
            let atOnce = OutputCollector<String>()
            let windows = OutputCollector<String>()
            let kept = NSLockedBox<[(index: Int, batch: Batch<(String, Int)>)]>([])
            let materialized = NSLockedBox<[Bool]>([])
            try snapshots.foreachBatch { batch, time, _ in
                atOnce.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" }))
                // The stream's own batch (foreachBatch hands over a computed copy).
                guard let lent = try await snapshots.batch(at: time) else { return }
                materialized.withLock { $0.append(lent.partitions.contains(where: \.isMaterialized)) }
                let index = Int(time.milliseconds / 1000) - 1
                if index % 2 == 0 { kept.withLock { $0.append((index, lent)) } }
            }
            try streams.stateSnapshots.window(.seconds(2)).foreachBatch { batch, time, _ in
                windows.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" }))
            }
            try driver.start()
            try await driver.runBatches(batches)
            await driver.stop()

            let expected = Self.replay(input, batches: batches, timeoutBatches: 2).states
            #expect(atOnce.batches == expected)
            for (index, batch) in kept.withLock({ $0 }) {
                #expect(multiset(batch.collect().map { "\($0.0)=\($0.1)" }) == expected[index], "snapshot of batch \(index + 1) read after the run")
            }
            #expect(kept.withLock { $0.count } == (batches + 1) / 2)
            #expect(windows.batches == expected.indices.map { multiset(($0 > 0 ? expected[$0 - 1] : []) + expected[$0]) })
            #expect(materialized.withLock { $0 } == Array(repeating: false, count: batches), "a snapshot is lent, not copied into arrays")
        }
    }

    @Test func initialStateIsUsedAndCanTimeOut() async throws {
        let input: [[(String, Int)]] = [[("a", 1)], [], [], []]
        let result = try await run(input, batches: 4, spec: Self.spec.initialState(["a": 10, "z": 5]).timeout(.seconds(1)))
        let expected = Self.replay(input, batches: 4, timeoutBatches: 1, initial: ["a": 10, "z": 5])
        #expect(result.mapped.map { multiset($0) } == expected.mapped.map { multiset($0) })
        #expect(result.states == expected.states)
        #expect(result.mapped[0] == ["a=11"])
    }
}
