import Foundation
@testable import Sluice
import SluiceTesting
import Testing

/// Partitions whose records arrive while the batch runs: pieces in order,
/// narrow operators applied piece by piece, failures as `sourceFailed`, and
/// a context that counts pieces as they come but outputs only whole batches.
/// A hang fails the test at its time limit, which cancels the awaits on
/// the tests' event streams.
@Suite(.timeLimit(.minutes(1))) struct PartitionArrivalTests {
    private struct Broken: Error, CustomStringConvertible {
        var description: String { "the broker went away at offset 4" }
    }

    @Test func piecesComeInOrderAndEndAtFinish() async throws {
        let arrival = PartitionArrival<Int>()
        let partition = Partition(count: 5, arrival: arrival)
        #expect(partition.isArriving)
        arrival.append(Partition([0, 1]))
        arrival.append(Partition([2]))
        arrival.append(Partition([3, 4]))
        arrival.finish()
        var pieces: [[Int]] = []
        try await partition.forEachPiece { pieces.append($0.collect()) }
        #expect(pieces == [[0, 1], [2], [3, 4]])
        let whole = try await partition.arrived()
        #expect(!whole.isArriving)
        #expect(whole.collect() == [0, 1, 2, 3, 4])
        // Read twice: the pieces are kept for every reader.
        #expect(try await partition.arrived().collect() == [0, 1, 2, 3, 4])
    }

    @Test func aReaderGetsEachPieceBeforeTheNextIsAppended() async throws {
        let arrival = PartitionArrival<Int>()
        let partition = Partition(count: 3, arrival: arrival).map { $0 * 10 }
        let (seen, seenContinuation) = AsyncStream<[Int]>.makeStream()
        let reader = Task {
            try await partition.forEachPiece { seenContinuation.yield($0.collect()) }
            seenContinuation.finish()
        }
        var iterator = seen.makeAsyncIterator()
        for value in 0..<3 {
            arrival.append(Partition([value]))
            // The reader must hand this piece on before the next exists.
            #expect(await iterator.next() == [value * 10])
        }
        arrival.finish()
        try await reader.value
        #expect(await iterator.next() == nil)
    }

    @Test func aFailedReadReachesEveryReaderAsSourceFailed() async throws {
        let arrival = PartitionArrival<Int>()
        let partition = Partition(count: 10, arrival: arrival)
        arrival.append(Partition([1, 2, 3]))
        arrival.fail(Broken())
        // Appends after a failure are ignored; the failure stays.
        arrival.append(Partition([4]))
        arrival.finish()
        var delivered: [Int] = []
        await #expect {
            try await partition.forEachPiece { delivered += $0.collect() }
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .sourceFailed && error?.message.contains("the broker went away at offset 4") == true
        }
        #expect(delivered == [1, 2, 3])
        await #expect(throws: StreamingError.self) { try await partition.arrived() }
        await #expect(throws: StreamingError.self) { try await Batch(partitions: [partition]).arrived() }
    }

    /// map, filter, flatMap and mapPartitions over an arriving partition
    /// equal the same operators over its elements (seeded random pieces).
    @Test func narrowOperatorsOverArrivingPiecesMatchTheWholePartition() async throws {
        var random = SeededRandom(seed: 17)
        for _ in 0..<100 {
            let pieces: [[Int]] = (0..<random.int(0...4)).map { _ in (0..<random.int(0...6)).map { _ in random.int(-20...20) } }
            let all = pieces.flatMap { $0 }
            let arrival = PartitionArrival<Int>()
            let partition = Partition(count: all.count, arrival: arrival)
            let mapped = partition.map { $0 * 3 }
            let filtered = partition.filter { $0 % 2 == 0 }
            let flattened = partition.flatMap { [$0, $0 + 1] }
            let wholePartition = partition.mapElements { $0.reversed() }
            for piece in pieces { arrival.append(Partition(piece)) }
            arrival.finish()
            #expect(try await mapped.arrived().collect() == all.map { $0 * 3 })
            #expect(try await filtered.arrived().collect() == all.filter { $0 % 2 == 0 })
            #expect(try await flattened.arrived().collect() == all.flatMap { [$0, $0 + 1] })
            #expect(try await wholePartition.arrived().collect() == all.reversed())
        }
    }

    // MARK: In a context

    /// A source whose partitions arrive after `read` returns: the test
    /// appends their records (two partitions, "words" lines).
    final class ArrivingLines: InputSource, @unchecked Sendable {
        struct Plan: InputPlan {
            var offsetRanges: [OffsetRange] = []
            var partitionLag: [PartitionLag] = []
        }

        let name = "arriving-lines"
        let reads: AsyncStream<[PartitionArrival<ByteString>]>
        private let continuation: AsyncStream<[PartitionArrival<ByteString>]>.Continuation
        let linesPerPartition: Int

        init(linesPerPartition: Int) {
            (reads, continuation) = AsyncStream.makeStream()
            self.linesPerPartition = linesPerPartition
        }

        func start(_ context: SourceContext) async throws {}
        func plan(_ context: PlanningContext) async throws -> Plan { Plan() }
        func read(_ plan: Plan) async throws -> Batch<ByteString> {
            let arrivals = (0..<2).map { _ in PartitionArrival<ByteString>() }
            continuation.yield(arrivals)
            return Batch(partitions: arrivals.map { Partition(count: linesPerPartition, arrival: $0) })
        }
        func stop() async { continuation.finish() }
    }

    /// Lines seen by a piecewise `map`, and the whole batches an output saw.
    final class Observed: @unchecked Sendable {
        let lock = NSLock()
        var mapped: [String] = []
        /// Set by the test just before the last partition finishes; what it
        /// was when each line was mapped.
        var allArrived = false
        var mappedAfterArrival: [Bool] = []
        var output: [[String]] = []
        var counts: [[String: Int]] = []
        let events: AsyncStream<String>
        let eventContinuation: AsyncStream<String>.Continuation

        init() {
            (events, eventContinuation) = AsyncStream.makeStream()
        }
    }

    /// Starts `driver`, runs the clock to the first batch time and returns
    /// that batch's two arrivals, once the source created them.
    private func firstBatchArrivals(_ driver: StreamTestDriver, _ source: ArrivingLines) async throws -> [PartitionArrival<ByteString>] {
        try driver.start()
        driver.clock.advance(by: driver.context.batchInterval)
        var reads = source.reads.makeAsyncIterator()
        return try #require(await reads.next())
    }

    private func observedContext(_ source: ArrivingLines, _ observed: Observed, processesWhileReading: Bool = true) throws -> StreamTestDriver {
        var configuration = StreamingConfiguration(defaultParallelism: 2)
        configuration.processesWhileReading = processesWhileReading
        let driver = try StreamTestDriver(configuration: configuration)
        let lines = driver.context.inputStream(source)
        let seen = lines.map { line -> ByteString in
            observed.lock.withLock {
                observed.mapped.append(line.string)
                observed.mappedAfterArrival.append(observed.allArrived)
            }
            observed.eventContinuation.yield("mapped \(line.string)")
            return line
        }
        try seen.countTokens().foreachBatch { batch, _, _ in
            var counts: [String: Int] = [:]
            for (token, count) in batch.collect() { counts[token.string, default: 0] += count }
            observed.lock.withLock { observed.counts.append(counts) }
        }
        try lines.foreachBatch { batch, _, _ in
            observed.lock.withLock { observed.output.append(batch.collect().map(\.string)) }
        }
        return driver
    }

    /// countTokens counts the first piece while the rest is still to come;
    /// the plain output runs only once everything arrived, and sees it all;
    /// the counts equal a split-based count.
    @Test func aContextCountsPiecesAsTheyComeAndOutputsWholeBatches() async throws {
        let source = ArrivingLines(linesPerPartition: 2)
        let observed = Observed()
        let driver = try observedContext(source, observed)
        let arrivals = try await firstBatchArrivals(driver, source)
        var events = observed.events.makeAsyncIterator()

        arrivals[0].append(Partition([ByteString("to be or")]))
        #expect(await events.next() == "mapped to be or")
        // Counted already, but not output: the batch has not arrived.
        #expect(observed.lock.withLock { observed.output.isEmpty && observed.counts.isEmpty })

        arrivals[1].append(Partition([ByteString("not to"), ByteString("be")]))
        arrivals[1].finish()
        arrivals[0].append(Partition([ByteString("that is")]))
        arrivals[0].finish()
        try await driver.waitForCompletedBatches(1)
        await driver.stop()

        let lines = ["to be or", "that is", "not to", "be"]
        var expected: [String: Int] = [:]
        for line in lines { for word in line.split(separator: " ") { expected[String(word), default: 0] += 1 } }
        #expect(observed.lock.withLock { observed.counts } == [expected])
        #expect(observed.lock.withLock { observed.output } == [lines])
        #expect(Set(observed.lock.withLock { observed.mapped }) == Set(lines))
        #expect(observed.lock.withLock { observed.mappedAfterArrival.first } == false)
    }

    /// With `processesWhileReading` off, nothing is counted before the
    /// batch's records have all arrived; the counts are the same.
    @Test func withProcessingWhileReadingOffCountingWaitsForTheWholeBatch() async throws {
        let source = ArrivingLines(linesPerPartition: 2)
        let observed = Observed()
        let driver = try observedContext(source, observed, processesWhileReading: false)
        let arrivals = try await firstBatchArrivals(driver, source)
        arrivals[0].append(Partition([ByteString("a b")]))
        arrivals[1].append(Partition([ByteString("b c"), ByteString("c")]))
        arrivals[1].finish()
        observed.lock.withLock { observed.allArrived = true }
        arrivals[0].finish()
        try await driver.waitForCompletedBatches(1)
        await driver.stop()
        #expect(observed.lock.withLock { observed.mappedAfterArrival } == [true, true, true])
        #expect(observed.lock.withLock { observed.counts } == [["a": 1, "b": 2, "c": 2]])
    }

    /// An input read only through map → countTokens: each piece is dropped
    /// once counted (its memory is reused while the rest arrives); the
    /// counts are those of every line.
    @Test func anInputReadOnceReleasesEachPieceOnceCounted() async throws {
        let source = ArrivingLines(linesPerPartition: 2)
        let observed = Observed()
        let driver = try StreamTestDriver()
        try driver.context.inputStream(source).map { $0 }.countTokens().foreachBatch { batch, _, _ in
            var counts: [String: Int] = [:]
            for (token, count) in batch.collect() { counts[token.string, default: 0] += count }
            observed.lock.withLock { observed.counts.append(counts) }
        }
        let arrivals = try await firstBatchArrivals(driver, source)
        for (index, arrival) in arrivals.enumerated() {
            arrival.append(Partition([ByteString("x y")]))
            arrival.append(Partition([ByteString("y \(index)")]))
            arrival.finish()
        }
        try await driver.waitForCompletedBatches(1)
        await driver.stop()
        #expect(observed.lock.withLock { observed.counts } == [["x": 2, "y": 4, "0": 1, "1": 1]])
        #expect(arrivals.map(\.heldPieces) == [0, 0])
    }

    /// A released piece read again is an error, not a gap.
    @Test func aReleasedPieceReadAgainIsAnError() async throws {
        let arrival = PartitionArrival<Int>()
        let partition = Partition(count: 3, arrival: arrival).releasingPiecesOnceRead()
        arrival.append(Partition([1, 2]))
        arrival.append(Partition([3]))
        arrival.finish()
        var read: [Int] = []
        try await partition.forEachPiece { read += $0.collect() }
        #expect(read == [1, 2, 3])
        #expect(arrival.heldPieces == 0)
        await #expect(throws: StreamingError.self) { try await partition.arrived() }
    }

    /// Which inputs are read once: only a chain of piece-passing operators,
    /// each the only consumer of the one before, into countTokens.
    @Test func onlyASingleChainIntoCountTokensReadsAnInputOnce() async throws {
        func readsOnce(processesWhileReading: Bool = true, _ build: (StreamingContext, DStream<ByteString>) throws -> Void) async throws -> Bool {
            var configuration = StreamingConfiguration(defaultParallelism: 2)
            configuration.processesWhileReading = processesWhileReading
            let driver = try StreamTestDriver(configuration: configuration)
            let input = driver.context.inputStream(ArrivingLines(linesPerPartition: 1))
            try build(driver.context, input)
            try driver.start()
            defer { Task { await driver.stop(graceful: false) } }
            return driver.context.graph.readsOnce(0)
        }
        let sink = CapturingSink()
        #expect(try await readsOnce { _, input in try input.countTokens().print(to: sink) })
        #expect(try await readsOnce { _, input in
            try input.filter { !$0.isEmpty }.flatMap { $0.tokens() }.map { $0 }.countTokens().print(to: sink)
        })
        // A second reader of the input, or of a stream on the chain.
        #expect(try await !readsOnce { _, input in
            try input.countTokens().print(to: sink)
            try input.print(to: sink)
        })
        #expect(try await !readsOnce { _, input in
            let mapped = input.map { $0 }
            try mapped.countTokens().print(to: sink)
            try mapped.print(to: sink)
        })
        // An operator that needs whole batches, a window, or the setting off.
        #expect(try await !readsOnce { _, input in try input.map { ($0, 1) }.reduceByKey(+).print(to: sink) })
        #expect(try await !readsOnce { context, input in
            try input.window(context.batchInterval * 2, slide: context.batchInterval).countTokens().print(to: sink)
        })
        #expect(try await !readsOnce(processesWhileReading: false) { _, input in try input.countTokens().print(to: sink) })
    }

    /// A partition that fails mid-read fails the batch with `sourceFailed`
    /// naming the batch, and no output sees any of it.
    @Test func aFailedReadFailsTheBatchBeforeAnyOutput() async throws {
        let source = ArrivingLines(linesPerPartition: 2)
        let observed = Observed()
        let driver = try observedContext(source, observed)
        let arrivals = try await firstBatchArrivals(driver, source)
        arrivals[0].append(Partition([ByteString("half a batch")]))
        arrivals[1].finish()
        arrivals[0].fail(Broken())
        await #expect {
            // Within the time it terminates, throwing the failure (false: still running).
            let terminated = try await driver.context.awaitTermination(timeout: .seconds(10))
            Issue.record("awaitTermination returned \(terminated) instead of throwing")
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .sourceFailed && error?.message.contains("reading the input of batch 1000 ms failed") == true
                && error?.message.contains("the broker went away at offset 4") == true
        }
        #expect(observed.lock.withLock { observed.output.isEmpty && observed.counts.isEmpty })
    }
}
