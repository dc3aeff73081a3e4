import Foundation
import Sluice
import SluiceTesting
import Testing

/// A source shaped like the Kafka direct stream: two partitions of a log
/// that grows by `growth` records per batch; each batch plans
/// `[from, until)` per partition (capped by `maxPerPartition`) and reads
/// exactly those offsets.
final class FakeLogSource: InputSource, @unchecked Sendable {
    struct Plan: InputPlan {
        var offsetRanges: [OffsetRange]
        var partitionLag: [PartitionLag]
    }

    let name = "fake-log"
    let growth: Int64
    let maxPerPartition: Int64?
    private let lock = NSLock()
    private var next: [Int32: Int64] = [0: 0, 1: 0]
    private var end: [Int32: Int64] = [0: 0, 1: 0]
    private(set) var rates: [Double?] = []
    private(set) var events: [String] = []

    init(growth: Int64, maxPerPartition: Int64? = nil) {
        self.growth = growth
        self.maxPerPartition = maxPerPartition
    }

    func start(_ context: SourceContext) async throws {}

    func plan(_ context: PlanningContext) async throws -> Plan {
        lock.withLock {
            rates.append(context.estimatedRate)
            events.append("plan \(context.batchTime.milliseconds)")
            var ranges: [OffsetRange] = []
            var lags: [PartitionLag] = []
            for partition in [Int32(0), 1] {
                end[partition, default: 0] += growth * Int64(partition + 1)
                let from = next[partition] ?? 0
                var until = end[partition] ?? 0
                if let cap = maxPerPartition { until = min(until, from + cap) }
                next[partition] = until
                ranges.append(OffsetRange(topic: "t", partition: partition, from: from, until: until))
                lags.append(PartitionLag(topic: "t", partition: partition, lag: (end[partition] ?? 0) - until))
            }
            return Plan(offsetRanges: ranges, partitionLag: lags)
        }
    }

    func read(_ plan: Plan) async throws -> Batch<String> {
        Batch(partitions: plan.offsetRanges.map { range in
            Partition((range.from..<range.until).map { "\(range.partition)@\($0)" })
        })
    }

    func stop() async {}

    var plannedRates: [Double?] { lock.withLock { rates } }
    var log: [String] { lock.withLock { events } }
}

final class RecordingPlanRecorder: BatchPlanRecorder, @unchecked Sendable {
    private let lock = NSLock()
    private var plans: [RecordedBatchPlan] = []

    func record(_ plan: RecordedBatchPlan) async throws {
        lock.withLock { plans.append(plan) }
    }

    var recorded: [RecordedBatchPlan] { lock.withLock { plans } }
}

@Suite struct InputSourceTests {
    @Test func offsetRangesReachOutputsAndListeners() async throws {
        let recorder = RecordingPlanRecorder()
        let listener = RecordingListener()
        let driver = try StreamTestDriver(configuration: StreamingConfiguration(defaultParallelism: 2, planRecorder: recorder))
        driver.context.addListener(listener)
        let source = FakeLogSource(growth: 3, maxPerPartition: 4)
        let seen = NSLockedBox<[(Time, [OffsetRange], [String])]>([])
        try driver.context.inputStream(source).foreachBatch { batch, time, ranges in
            seen.withLock { $0.append((time, ranges, batch.collect())) }
        }
        // A second output on an unrelated input gets no ranges.
        let queueRanges = NSLockedBox<[[OffsetRange]]>([])
        try driver.context.queueStream([[1]]).foreachBatch { _, _, ranges in queueRanges.withLock { $0.append(ranges) } }
        try driver.start()
        try await driver.runBatches(3)
        await driver.stop()

        let batches = seen.withLock { $0 }
        #expect(batches.count == 3)
        // Contiguous per partition, capped at 4, covering every record once.
        var expectedFrom: [Int32: Int64] = [0: 0, 1: 0]
        var allRecords: [String] = []
        for (_, ranges, records) in batches {
            for range in ranges {
                #expect(range.from == expectedFrom[range.partition])
                #expect(range.count <= 4)
                #expect(range.nextOffsetToCommit == range.until)
                expectedFrom[range.partition] = range.until
            }
            #expect(records.count == Int(ranges.reduce(0) { $0 + $1.count }))
            allRecords += records
        }
        #expect(Set(allRecords).count == allRecords.count)
        #expect(batches[0].1 == [OffsetRange(topic: "t", partition: 0, from: 0, until: 3), OffsetRange(topic: "t", partition: 1, from: 0, until: 4)])
        #expect(queueRanges.withLock { $0 } == [[], [], []])
        // The plan is recorded before the batch runs, with the same ranges.
        #expect(recorder.recorded.map(\.batchTime.milliseconds) == [1000, 2000, 3000])
        #expect(recorder.recorded[0].offsetRanges[0] == batches[0].1)
        // Listener: records, ranges and lag per batch.
        let infos = listener.completed
        #expect(infos.map(\.batchTime.milliseconds) == [1000, 2000, 3000])
        #expect(infos[0].numRecords == 7 + 1)
        #expect(infos[0].offsetRanges == batches[0].1)
        #expect(infos[0].totalLag == 2)
        #expect(infos[2].partitionLag.map(\.lag) == [0, 6])
    }

    @Test func backpressureFeedsThePIDRateBackToPlanning() async throws {
        // Every batch reads 1000 records; the output moves the manual clock
        // to simulate processing times of 500, 500, 900 and 400 ms.
        final class ThousandSource: InputSource, @unchecked Sendable {
            struct Plan: InputPlan {}
            let name = "thousand"
            let rates = NSLockedBox<[Double?]>([])
            func start(_ context: SourceContext) async throws {}
            func plan(_ context: PlanningContext) async throws -> Plan {
                rates.withLock { $0.append(context.estimatedRate) }
                return Plan()
            }
            func read(_ plan: Plan) async throws -> Batch<Int> { Batch(Array(0..<1000)) }
            func stop() async {}
        }
        let config = StreamingConfiguration(defaultParallelism: 2, backpressure: .init(isEnabled: true))
        let driver = try StreamTestDriver(configuration: config)
        let source = ThousandSource()
        let processing: [Int64: Duration] = [1000: .milliseconds(500), 2000: .milliseconds(500), 3000: .milliseconds(900), 4000: .milliseconds(400)]
        let clock = driver.clock
        try driver.context.inputStream(source).foreachBatch { _, time, _ in
            clock.advance(by: processing[time.milliseconds] ?? .zero)
        }
        try driver.start()
        for (index, time) in [1000, 2000, 3000, 4000, 5000].enumerated() {
            clock.advance(to: ManualClock.Instant(offset: .milliseconds(time)))
            try await driver.waitForCompletedBatches(index + 1)
        }
        await driver.stop()
        let rates = source.rates.withLock { $0 }
        // Batch 1 seeds the estimator (2000/s); batch 2 confirms 2000; batch 3
        // is slower: 1000/0.9 s = 1111.1/s; batch 4 is faster: 2500/s.
        #expect(rates.count == 5)
        #expect(rates[0] == nil && rates[1] == nil)
        #expect(rates[2] == 2000)
        #expect(abs((rates[3] ?? 0) - 1111.111) < 0.01)
        #expect(abs((rates[4] ?? 0) - 2500) < 0.01)
    }

    @Test func failingSourceStartEndsTheContext() async throws {
        final class BrokenSource: InputSource, @unchecked Sendable {
            struct Plan: InputPlan {}
            let name = "broken"
            func start(_ context: SourceContext) async throws {
                throw StreamingError(code: .invalidArgument, message: "no such broker")
            }
            func plan(_ context: PlanningContext) async throws -> Plan { Plan() }
            func read(_ plan: Plan) async throws -> Batch<Int> { .empty }
            func stop() async {}
        }
        let driver = try StreamTestDriver()
        try driver.context.inputStream(BrokenSource()).print(to: CapturingSink())
        try driver.start()
        await #expect {
            try await driver.context.awaitTermination()
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .sourceFailed && error?.message.contains("broken") == true
        }
    }
}
