@testable import Sluice
import SluiceTesting
import Testing

/// What an exactly-once output commits with each batch: the keys a
/// stateful operator wrote or removed in that batch, with their state now.
/// The operators list written keys only while changes are tracked, so
/// these begin tracking before the first batch, as the output does.
@Suite struct StateDeltaTests {
    /// Running sum per key; a value of 0 removes the key.
    static let spec = StateSpec.function { (key: String, value: Int?, state: inout MapState<Int>) -> (String, Int)? in
        guard let value, !state.isTimingOut else { return nil }
        if value == 0 {
            state.remove()
        } else {
            state.update((state.get() ?? 0) + value)
        }
        return nil
    }

    @Test func mapWithStateCommitsTheKeysEachBatchWroteRemovedOrTimedOut() async throws {
        var random = SeededRandom(seed: 408)
        for _ in 0..<60 {
            let keys = random.int(1...40)
            let input: [[(String, Int)]] = (0..<random.int(1...6)).map { _ in
                (0..<random.int(0...30)).map { _ in ("k\(random.int(0...(keys - 1)))", random.int(0...3)) }
            }
            let timeoutBatches: Int? = random.int(0...1) == 0 ? nil : random.int(1...2)
            var spec = Self.spec
            if let timeoutBatches { spec = spec.timeout(.seconds(timeoutBatches)) }

            let driver = try StreamTestDriver()
            let streams = driver.context.queueStream(input, partitions: random.int(1...3)).mapWithState(spec)
            try streams.mapped.foreachBatch { _, _, _ in }
            let states = driver.context.graph.stateRegistry.states(ofNodes: [streams.mapped.node.id])
            let state = try #require(states.first as? KeyedState<String, TimestampedState<Int>>)
            state.beginChangeTracking(includeExisting: false)
            try driver.start()

            var replayed: [String: Int] = [:]
            var lastTouched: [String: Int] = [:]
            for (offset, batch) in input.enumerated() {
                try await driver.runBatches(1)
                let delta = state.store.delta()
                state.markCommitted()

                let number = offset + 1
                var dirty: Set<String> = []
                for (key, value) in batch {
                    if value == 0 {
                        if replayed.removeValue(forKey: key) != nil { dirty.insert(key) }
                        lastTouched[key] = nil
                    } else {
                        replayed[key, default: 0] += value
                        lastTouched[key] = number
                        dirty.insert(key)
                    }
                }
                if let timeoutBatches {
                    for (key, touched) in lastTouched where touched < number - timeoutBatches {
                        replayed[key] = nil
                        lastTouched[key] = nil
                        dirty.insert(key)
                    }
                }
                let upserts = Dictionary(uniqueKeysWithValues: delta.upserts.map { ($0.key, $0.value.state) })
                #expect(upserts == replayed.filter { dirty.contains($0.key) }, "batch \(number), timeout \(String(describing: timeoutBatches))")
                #expect(Set(delta.deletes) == dirty.filter { replayed[$0] == nil }, "batch \(number)")
            }
            await driver.stop()
        }
    }
}
