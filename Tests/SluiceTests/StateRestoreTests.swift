@testable import Sluice
import SluiceTesting
import Testing

/// Stateful operators against brute force, and snapshot → restore →
/// continue against an uninterrupted run.
@Suite struct StateRestoreTests {
    @Test func updateStateByKeyMatchesReplay() async throws {
        var random = SeededRandom(seed: 71)
        for _ in 0..<100 {
            let input = random.keyedBatches(batches: random.int(1...6), keys: "abcdef")
            // Sum of values; a key whose sum drops below −5 is removed; every
            // key also decays by 1 per batch without values (update([], old)).
            let output = try await testOperation(input: input, batches: input.count + 2) { stream in
                stream.updateStateByKey { (values: [Int], old: Int?) -> Int? in
                    let new = (old ?? 0) + values.reduce(0, +) - (values.isEmpty ? 1 : 0)
                    return new < -5 ? nil : new
                }
            }
            var state: [String: Int] = [:]
            for (index, result) in output.enumerated() {
                let batch = index < input.count ? input[index] : []
                var values: [String: [Int]] = [:]
                for (key, value) in batch { values[key, default: []].append(value) }
                for key in Set(state.keys).union(values.keys) {
                    let vs = values[key] ?? []
                    let new = (state[key] ?? 0) + vs.reduce(0, +) - (vs.isEmpty ? 1 : 0)
                    state[key] = new < -5 ? nil : new
                }
                #expect(multiset(result.map { "\($0.0)=\($0.1)" }) == multiset(state.map { "\($0.key)=\($0.value)" }))
            }
        }
    }

    static let spec = StateSpec.function { (key: String, value: Int?, state: inout MapState<Int>) -> (String, Int)? in
        if state.isTimingOut { return (key, -1) }
        let total = (state.get() ?? 0) + (value ?? 0)
        state.update(total)
        return (key, total)
    }.timeout(.seconds(2))

    /// Runs `input` (batch times start after `start`), restoring `snapshot`
    /// first; returns outputs per batch and the final snapshot.
    func run(_ input: [[(String, Int)]], start: Duration, restoring snapshot: [EncodedStateEntry]?)
        async throws -> (outputs: [[String]], snapshot: [EncodedStateEntry])
    {
        let driver = try StreamTestDriver(startingAt: start)
        let collector = OutputCollector<String>()
        let streams = driver.context.queueStream(input).mapWithState(Self.spec)
        try streams.mapped.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" }))
        }
        let states = driver.context.graph.stateRegistry.states(ofNodes: [streams.mapped.node.id])
        #expect(states.count == 1)
        if let snapshot { try states.first?.restore(snapshot) }
        try driver.start()
        try await driver.runBatches(input.count)
        await driver.stop()
        return (collector.batches, try states.first?.encodedSnapshot() ?? [])
    }

    @Test func mapWithStateSnapshotRestoreContinuesLikeAnUninterruptedRun() async throws {
        var random = SeededRandom(seed: 72)
        for _ in 0..<40 {
            let input = random.keyedBatches(batches: random.int(4...8), maxSize: 5, keys: "abcdefg")
            let cut = random.int(1...(input.count - 1))
            let whole = try await run(input, start: .zero, restoring: nil)
            let first = try await run(Array(input[..<cut]), start: .zero, restoring: nil)
            let second = try await run(Array(input[cut...]), start: .seconds(cut), restoring: first.snapshot)
            #expect(first.outputs + second.outputs == whole.outputs)
            #expect(second.snapshot.map(\.key).sorted(by: { $0.lexicographicallyPrecedes($1) })
                == whole.snapshot.map(\.key).sorted(by: { $0.lexicographicallyPrecedes($1) }))
        }
    }

    /// Event-time counts over `input`; restores `snapshot` (one entry list
    /// per registered state) first; returns final outputs and the snapshots.
    func runEventTime(_ input: [[(String, Int)]], start: Duration, restoring snapshot: [[EncodedStateEntry]]?)
        async throws -> (outputs: [[String]], snapshot: [[EncodedStateEntry]])
    {
        let driver = try StreamTestDriver(startingAt: start)
        let collector = OutputCollector<String>()
        let streams = driver.context.queueStream(input).countByEventTime(
            timestamp: { _, time in Time(milliseconds: Int64(time)) },
            windows: .session(gap: .milliseconds(300)), allowedLateness: .milliseconds(400), emit: .onEveryUpdate)
        try streams.results.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: multiset(batch.collect().map { "\($0.key)\($0.window)=\($0.value) \($0.isFinal)" }))
        }
        try streams.late.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: batch.collect().map { "late \($0.0)@\($0.1)" })
        }
        let states = driver.context.graph.stateRegistry.states(ofNodes: [streams.results.node.id])
        #expect(states.count == 2)
        if let snapshot {
            for (state, entries) in zip(states, snapshot) { try state.restore(entries) }
        }
        try driver.start()
        try await driver.runBatches(input.count)
        await driver.stop()
        return (collector.batches, try states.map { try $0.encodedSnapshot() })
    }

    @Test func eventTimeWindowsSnapshotRestoreContinuesLikeAnUninterruptedRun() async throws {
        var random = SeededRandom(seed: 73)
        for _ in 0..<40 {
            var clock = 0
            let input: [[(String, Int)]] = (0..<random.int(4...8)).map { _ in
                (0..<random.int(0...5)).map { _ in
                    clock += random.int(0...250)
                    return (["a", "b"][random.int(0...1)], max(0, clock - random.int(0...800)))
                }
            }
            let cut = random.int(1...(input.count - 1))
            let whole = try await runEventTime(input, start: .zero, restoring: nil)
            let first = try await runEventTime(Array(input[..<cut]), start: .zero, restoring: nil)
            let second = try await runEventTime(Array(input[cut...]), start: .seconds(cut), restoring: first.snapshot)
            #expect(first.outputs + second.outputs == whole.outputs)
        }
    }

    func runSliding(_ input: [[Int]], start: Duration, restoring snapshot: [[EncodedStateEntry]]?)
        async throws -> (outputs: [[String]], snapshot: [[EncodedStateEntry]])
    {
        let driver = try StreamTestDriver(startingAt: start)
        let collector = OutputCollector<String>()
        let counts = driver.context.queueStream(input).countByValueAndWindow(.seconds(3), slide: .seconds(1))
        let total = driver.context.queueStream(input).reduceByWindow(+, inverse: -, .seconds(4), slide: .seconds(2))
        let maxima = driver.context.queueStream(input).map { ($0 % 2, $0) }.reduceByKeyAndWindow(max, .seconds(3))
        try maxima.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: multiset(batch.collect().map { "max \($0.0)=\($0.1)" }))
        }
        try counts.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" }))
        }
        try total.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: batch.collect().map { "sum \($0)" })
        }
        let nodes = Set((counts.node.lineage() + total.node.lineage() + maxima.node.lineage()).map(\.id))
        let states = driver.context.graph.stateRegistry.states(ofNodes: nodes)
        #expect(states.count == 3)
        if let snapshot {
            for (state, entries) in zip(states, snapshot) { try state.restore(entries) }
        }
        try driver.start()
        try await driver.runBatches(input.count)
        await driver.stop()
        return (collector.batches, try states.map { try $0.encodedSnapshot() })
    }

    @Test func slidingWindowsSnapshotRestoreContinuesLikeAnUninterruptedRun() async throws {
        var random = SeededRandom(seed: 74)
        for _ in 0..<40 {
            let input = (0..<random.int(4...9)).map { _ in random.intBatches(batches: 1...1, maxSize: 6, values: 0...3)[0] }
            // Cut on an even second so both windows' slide grids line up in the second context.
            let cut = 2 * random.int(1...((input.count - 1) / 2))
            let whole = try await runSliding(input, start: .zero, restoring: nil)
            let first = try await runSliding(Array(input[..<cut]), start: .zero, restoring: nil)
            let second = try await runSliding(Array(input[cut...]), start: .seconds(cut), restoring: first.snapshot)
            #expect(first.outputs + second.outputs == whole.outputs)
        }
    }
}
