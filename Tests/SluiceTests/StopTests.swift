import Sluice
import SluiceTesting
import Testing

/// Graceful stop runs every planned batch; a non-graceful stop finishes the
/// batch in progress (all its outputs) and drops the queued ones.
@Suite struct StopTests {
    /// Holds batch 1 in its first output, queues batches 2 and 3, then stops
    /// from inside that output and releases it.
    func runStoppingDuringBatchOne(graceful: Bool) async throws -> [String] {
        let listener = RecordingListener()
        let driver = try StreamTestDriver()
        driver.context.addListener(listener)
        let gate = Gate()
        let entered = EventCounter()
        let log = NSLockedBox<[String]>([])
        let context = driver.context
        let stream = context.queueStream([[1], [2], [3]])
        try stream.foreachBatch { _, time, _ in
            log.withLock { $0.append("first \(time.milliseconds)") }
            if time.milliseconds == 1000 {
                entered.increment()
                await gate.wait()
                await context.stop(graceful: graceful)
            }
        }
        try stream.foreachBatch { _, time, _ in log.withLock { $0.append("second \(time.milliseconds)") } }
        try driver.start()
        driver.clock.advance(by: .seconds(1))
        #expect(await entered.wait(for: 1))
        driver.clock.advance(by: .seconds(2))
        #expect(await listener.submitted.wait(for: 3))
        gate.open()
        try await context.awaitTermination()
        // The clock moving on after the stop produces nothing.
        driver.clock.advance(by: .seconds(5))
        return log.withLock { $0 }
    }

    @Test func gracefulStopDrainsPlannedBatches() async throws {
        let log = try await runStoppingDuringBatchOne(graceful: true)
        #expect(log == ["first 1000", "second 1000", "first 2000", "second 2000", "first 3000", "second 3000"])
    }

    @Test func nonGracefulStopOutputsNoHalfBatch() async throws {
        let log = try await runStoppingDuringBatchOne(graceful: false)
        #expect(log == ["first 1000", "second 1000"])
    }

    @Test func stopFromOutsideWhileIdle() async throws {
        let driver = try StreamTestDriver()
        let collector = OutputCollector<Int>()
        try driver.context.queueStream([[1], [2]]).foreachBatch { batch, time, _ in
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()
        try await driver.runBatches(2)
        await driver.context.stop(graceful: false)
        #expect(driver.context.state == .stopped)
        #expect(collector.batches == [[1], [2]])
    }
}

extension StopTests {
    /// A source whose planning waits until cancelled (like a plan waiting on a broker).
    final class HangingPlanSource: InputSource, @unchecked Sendable {
        struct Plan: InputPlan {}
        let name = "hanging"
        let planning = EventCounter()
        func start(_ context: SourceContext) async throws {}
        func plan(_ context: PlanningContext) async throws -> Plan {
            planning.increment()
            try await Task.sleep(for: .seconds(3600))
            return Plan()
        }
        func read(_ plan: Plan) async throws -> Batch<Int> { .empty }
        func stop() async {}
    }

    @Test func stopDuringPlanningIsNotAFailure() async throws {
        let driver = try StreamTestDriver()
        let source = HangingPlanSource()
        try driver.context.inputStream(source).foreachBatch { _, _, _ in }
        try driver.start()
        driver.clock.advance(by: .seconds(1))
        #expect(await source.planning.wait(for: 1))
        await driver.context.stop(graceful: true)
        // Returns normally: the interrupted plan was dropped, nothing failed.
        try await driver.context.awaitTermination()
        #expect(driver.completedBatches.isEmpty)
    }
}
