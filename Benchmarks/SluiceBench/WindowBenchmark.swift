import ArgumentParser
import Foundation
import Sluice
import SluiceWorkloads
import SluiceTesting

/// Issue 4: reduceByKeyAndWindow over 30 batch intervals sliding by one,
/// with the inverse function (incremental: old − leaving + entering) vs
/// without (re-reduces the 30 per-batch partials every batch). Driven on a
/// manual clock with a queue stream; per-batch times once the window is full.
struct WindowBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window",
        abstract: "reduceByKeyAndWindow with vs without inverse, per-batch time (issue 4).")

    @Option(help: "Window length in batch intervals.") var length: Int = 30
    @Option(help: "Records per batch.") var records: Int = 100_000
    @Option(help: "Distinct keys records are drawn from.") var keys: Int = 100_000
    @Option(help: "Measured batches (after the window has filled).") var batches: Int = 10
    @Option(help: "Partitions of the keyed operators.") var partitions: Int = 2

    func run() async throws {
        printLoad()
        ChildSetup.quietLogging()
        let plain = try await perBatch(inverse: false)
        print("without inverse: \(Format.milliseconds(plain)) per batch")
        let incremental = try await perBatch(inverse: true)
        print("with inverse:    \(Format.milliseconds(incremental)) per batch")
        print("")
        print("## window — reduceByKeyAndWindow(+, length \(length) intervals, slide 1), \(records) records per batch over \(keys) keys, \(partitions) partitions; median of \(batches) batches once the window is full")
        print("without inverse \(Format.milliseconds(plain)), with inverse (and a filter dropping zero counts) \(Format.milliseconds(incremental)); without / with = \(Format.ratio(plain / incremental))")
        printLoad()
    }

    func perBatch(inverse: Bool) async throws -> Double {
        let queue = BatchQueue<(String, Int)>()
        let driver = try StreamTestDriver(
            batchInterval: .seconds(1),
            configuration: StreamingConfiguration(defaultParallelism: partitions, logger: ChildSetup.logger),
            timeout: .seconds(600))
        let input = driver.context.queueStream(queue)
        let length = Duration.seconds(self.length)
        let windowed = inverse
            ? input.reduceByKeyAndWindow(+, inverse: -, length, slide: .seconds(1), filter: { $0.1 != 0 })
            : input.reduceByKeyAndWindow(+, length, slide: .seconds(1))
        let sink = Counter()
        try windowed.foreachBatch { batch, _, _ in sink.add(batch.count()) }
        try driver.start()
        var generator = SeededGenerator(seed: 11)
        var times: [Double] = []
        for round in 0..<(self.length + batches) {
            var batch: [(String, Int)] = []
            batch.reserveCapacity(records)
            for _ in 0..<records { batch.append((StateBenchmark.key(Int(generator.next() % UInt64(keys))), 1)) }
            queue.push(batch)
            let start = Measure.now()
            try await driver.runBatches(1)
            if round >= self.length { times.append(Measure.now() - start) }
        }
        await driver.stop(graceful: false)
        return Measure.median(times)
    }
}
