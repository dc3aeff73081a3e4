import Foundation
@testable import Sluice
import SluiceTesting
import Testing

/// Computed batches are remembered only while a later batch time may ask
/// for them: a stream read by outputs alone drops its batch once they ran
/// (updateStateByKey's batch is every key's state, so keeping it doubled
/// the operator's memory), and a window's parent keeps what the next
/// windows need. The outputs stay those of brute force.
@Suite struct BatchReleaseTests {
    struct Opaque: Sendable {
        var value: Int
    }

    @Test func statefulBatchIsReleasedOnceItsOutputsRan() async throws {
        var random = SeededRandom(seed: 91)
        for _ in 0..<20 {
            let input = random.keyedBatches(batches: random.int(2...6), keys: "abcdef")
            let driver = try StreamTestDriver()
            let stream = driver.context.queueStream(input)
            let totals = stream.updateStateByKey { (values: [Int], old: Int?) -> Int? in (old ?? 0) + values.reduce(0, +) }
            // Two outputs: the second reads the remembered batch, so the
            // update must not run twice for one batch time.
            let first = OutputCollector<String>()
            let second = OutputCollector<String>()
            try totals.foreachBatch { batch, time, _ in first.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" })) }
            try totals.map { "\($0.0)=\($0.1)" }.foreachBatch { batch, time, _ in second.append(time: time, elements: multiset(batch.collect())) }
            try driver.start()
            var state: [String: Int] = [:]
            for (index, batch) in input.enumerated() {
                try await driver.runBatches(1)
                for (key, value) in batch { state[key, default: 0] += value }
                let expected = multiset(state.map { "\($0.key)=\($0.value)" })
                #expect(first.batches[index] == expected)
                #expect(second.batches[index] == expected)
                #expect(totals.memo.times.isEmpty, "updateStateByKey still holds \(totals.memo.times)")
                #expect(stream.memo.times.isEmpty, "the input still holds \(stream.memo.times)")
            }
            await driver.stop()
        }
    }

    @Test func windowParentKeepsOnlyWhatLaterWindowsNeed() async throws {
        var random = SeededRandom(seed: 92)
        for _ in 0..<20 {
            let slide = random.int(1...3)
            let length = slide * random.int(1...3)
            let input = random.intBatches(batches: 6...12, maxSize: 4)
            let driver = try StreamTestDriver()
            // Not Codable: the window remembers its parent's batches (a
            // Codable one keeps them as state, see SlidingWindowCommitTests).
            let parent = driver.context.queueStream(input).map { Opaque(value: $0) }
            let windowed = parent.window(.seconds(length), slide: .seconds(slide))
            let collector = OutputCollector<Int>()
            try windowed.foreachBatch { batch, time, _ in collector.append(time: time, elements: batch.collect().map(\.value)) }
            try driver.start()
            for second in 1...input.count {
                try await driver.runBatches(1)
                // The window's own batch is not kept once output; its parent
                // keeps at most the batches of one window plus those since
                // the last window (Spark keeps one slide more of each).
                #expect(windowed.memo.times.isEmpty)
                let kept = parent.memo.times.map { Int($0.milliseconds / 1000) }
                let lastWindow = second - second % slide
                #expect(kept.allSatisfy { $0 > lastWindow - length && $0 <= second }, "after \(second) s (length \(length), slide \(slide)) kept \(kept)")
            }
            await driver.stop()
            // Every window against brute force over the raw batches.
            let windows = (1...input.count).filter { $0 % slide == 0 }
            #expect(collector.batches.count == windows.count)
            for (index, end) in windows.enumerated() where index < collector.batches.count {
                let expected = ((end - length + 1)...end).filter { $0 >= 1 }.flatMap { input[$0 - 1] }
                #expect(collector.batches[index] == expected)
            }
        }
    }

    @Test func heldStateBatchesKeepTheirBatchesState() async throws {
        // Batches kept past their time (by a window over the state and by
        // user code) still hold the state of their own batch time.
        var random = SeededRandom(seed: 93)
        for _ in 0..<20 {
            let input = random.keyedBatches(batches: random.int(2...7), keys: "abcdef")
            let driver = try StreamTestDriver()
            let totals = driver.context.queueStream(input)
                .updateStateByKey { (values: [Int], old: Int?) -> Int? in
                    let new = (old ?? 0) + values.reduce(0, +)
                    return new > 15 ? nil : new
                }
            let held = NSLockedBox<[Batch<(String, Int)>]>([])
            try totals.foreachBatch { batch, _, _ in held.withLock { $0.append(batch) } }
            let windows = OutputCollector<String>()
            try totals.window(.seconds(2)).foreachBatch { batch, time, _ in
                windows.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" }))
            }
            try driver.start()
            try await driver.runBatches(input.count)
            await driver.stop()
            var states: [[String]] = []
            var state: [String: Int] = [:]
            for batch in input {
                var sums: [String: Int] = [:]
                for (key, value) in batch { sums[key, default: 0] += value }
                for (key, sum) in sums {
                    let new = (state[key] ?? 0) + sum
                    state[key] = new > 15 ? nil : new
                }
                states.append(multiset(state.map { "\($0.key)=\($0.value)" }))
            }
            let batches = held.withLock { $0 }
            #expect(batches.map { multiset($0.collect().map { "\($0.0)=\($0.1)" }) } == states)
            #expect(windows.batches == states.indices.map { multiset(states[max(0, $0 - 1)...$0].flatMap { $0 }) })
        }
    }

    @Test func lentSnapshotCopiesOutOnlyWhenStillHeld() {
        let lent = LentSnapshot<String, Int>()
        let dictionary = Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", $0) })
        var batch: Batch<(String, Int)>? = lent.lend(dictionary, partitionCount: 3)
        #expect(batch?.partitions.count == 3)
        #expect(batch.map { multiset($0.collect().map { "\($0.0)=\($0.1)" }) } == multiset(dictionary.map { "\($0.key)=\($0.value)" }))
        // Held: the entries are copied out and still read the same.
        #expect(lent.release())
        #expect(batch.map { multiset($0.collect().map { "\($0.0)=\($0.1)" }) } == multiset(dictionary.map { "\($0.key)=\($0.value)" }))
        #expect(batch?.count() == 100)
        // Not held: nothing to copy.
        batch = lent.lend(dictionary, partitionCount: 3)
        batch = nil
        #expect(!lent.release())
        #expect(!lent.release())
        // Fewer entries than partitions, and none.
        #expect(lent.lend(["a": 1], partitionCount: 4).partitions.count == 1)
        #expect(lent.lend([:], partitionCount: 4).collect().isEmpty)
    }
}
