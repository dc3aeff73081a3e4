@testable import Sluice
import SluiceTesting
import Testing

/// Incremental windows sliding by more than one batch, under what an
/// exactly-once output does each batch (advance the windows' state, then
/// commit it with the batch's offsets): a restart between two windows
/// resumes after the last committed batch, so that batch must already be
/// in the stored state. Every window, before and after the restart, is
/// compared with a brute-force recomputation over the raw batches.
@Suite struct SlidingWindowCommitTests {
    static let length = 4
    static let slide = 2

    /// Runs `input` (batch times start after `start`) with the stored state
    /// `snapshot` restored; after each batch's outputs the windows are
    /// advanced as an exactly-once output does before its commit.
    func run(_ input: [[Int]], start: Duration, restoring snapshot: [[EncodedStateEntry]]?)
        async throws -> (outputs: [(seconds: Int, elements: [String])], snapshot: [[EncodedStateEntry]])
    {
        let driver = try StreamTestDriver(startingAt: start)
        let collector = OutputCollector<String>()
        let numbers = driver.context.queueStream(input)
        let counts = numbers.countByValueAndWindow(.seconds(Self.length), slide: .seconds(Self.slide))
        let maxima = numbers.map { ($0 % 2, $0) }.reduceByKeyAndWindow(max, .seconds(Self.length), slide: .seconds(Self.slide))
        try counts.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: multiset(batch.collect().map { "\($0.0)=\($0.1)" }))
        }
        try maxima.foreachBatch { batch, time, _ in
            collector.append(time: time, elements: multiset(batch.collect().map { "max \($0.0)=\($0.1)" }))
        }
        let nodes = Set((counts.node.lineage() + maxima.node.lineage()).map(\.id))
        let registry = driver.context.graph.stateRegistry
        let states = registry.states(ofNodes: nodes)
        let advancers = registry.advancers(ofNodes: nodes)
        #expect(states.count == 2 && advancers.count == 2)
        // An output on a stream with a batch every interval: runs every batch, after the windows.
        try numbers.foreachBatch { _, time, _ in
            for advance in advancers { try await advance(time) }
        }
        if let snapshot {
            for (state, entries) in zip(states, snapshot) { try state.restore(entries) }
        }
        try driver.start()
        try await driver.runBatches(input.count)
        await driver.stop()
        let outputs = zip(collector.times, collector.batches).map { (seconds: Int($0.milliseconds / 1000), elements: $1) }
        return (outputs, try states.map { try $0.encodedSnapshot() })
    }

    /// The two windows ending at `seconds` over `input` (batch i at i + 1 s).
    static func bruteForce(_ input: [[Int]], endingAt seconds: Int) -> [[String]] {
        let values = (max(1, seconds - length + 1)...seconds).flatMap { input[$0 - 1] }
        var counts: [Int: Int] = [:]
        var maxima: [Int: Int] = [:]
        for value in values {
            counts[value, default: 0] += 1
            maxima[value % 2] = max(maxima[value % 2] ?? value, value)
        }
        return [multiset(counts.map { "\($0.key)=\($0.value)" }), multiset(maxima.map { "max \($0.key)=\($0.value)" })]
    }

    @Test func restartBetweenTwoWindowsLosesNothing() async throws {
        var random = SeededRandom(seed: 94)
        for _ in 0..<30 {
            let input = (0..<random.int(5...10)).map { _ in random.intBatches(batches: 1...1, maxSize: 5, values: 0...3)[0] }
            // An odd cut: the last batch before the restart is between two windows.
            let cut = 2 * random.int(0...((input.count - 2) / 2)) + 1
            let first = try await run(Array(input[..<cut]), start: .zero, restoring: nil)
            let second = try await run(Array(input[cut...]), start: .seconds(cut), restoring: first.snapshot)
            let outputs = first.outputs + second.outputs
            // Windows every slide from each run's start: even times, then cut + 2, cut + 4 …
            let ends = Array(stride(from: Self.slide, through: cut, by: Self.slide))
                + Array(stride(from: cut + Self.slide, through: input.count, by: Self.slide))
            #expect(outputs.map(\.seconds) == ends.flatMap { [$0, $0] })
            for end in ends {
                let produced = outputs.filter { $0.seconds == end }.map(\.elements)
                #expect(produced == Self.bruteForce(input, endingAt: end), "window ending at \(end) s, restart after \(cut) s")
            }
        }
    }
}
