import Foundation
import Sluice
import SluiceTesting
import Testing

@Suite struct LifecycleTests {
    @Test(arguments: [Duration.zero, .milliseconds(-5), .seconds(-1), .microseconds(500), .microseconds(1500)])
    func invalidIntervalIsAReadableError(interval: Duration) {
        #expect {
            _ = try StreamingContext(batchInterval: interval, clock: ManualClock())
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .invalidDuration && error?.message.contains("batch interval") == true
        }
    }

    @Test func defaultClockContextWithTenMilliseconds() throws {
        let ssc = try StreamingContext(batchInterval: .milliseconds(10))
        #expect(ssc.state == .initialized)
        #expect(ssc.batchInterval == .milliseconds(10))
    }

    @Test func startTwiceAndRestartAreErrors() async throws {
        let driver = try StreamTestDriver()
        try driver.context.queueStream([[1]]).print(to: CapturingSink())
        try driver.start()
        #expect(driver.context.state == .active)
        #expect { try driver.context.start() } throws: { ($0 as? StreamingError)?.code == .alreadyStarted }
        await driver.stop()
        #expect(driver.context.state == .stopped)
        #expect { try driver.context.start() } throws: { ($0 as? StreamingError)?.code == .alreadyStopped }
    }

    @Test func stopBeforeStartEndsTheContext() async throws {
        let ssc = try StreamingContext(batchInterval: .seconds(1), clock: ManualClock())
        try ssc.queueStream([[1]]).print(to: CapturingSink())
        await ssc.stop()
        #expect(ssc.state == .stopped)
        try await ssc.awaitTermination()
        #expect { try ssc.start() } throws: { ($0 as? StreamingError)?.code == .alreadyStopped }
    }

    @Test func addingOutputsOrInputsAfterStartIsAnError() async throws {
        let driver = try StreamTestDriver()
        let stream = driver.context.queueStream([[1]])
        try stream.print(to: CapturingSink())
        try driver.start()
        #expect {
            try stream.map { $0 + 1 }.print()
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .graphFrozen && error?.message.contains("before calling start()") == true
        }
        let late = driver.context.queueStream([[2]])
        #expect { try late.foreachBatch { _, _, _ in } } throws: { ($0 as? StreamingError)?.code == .graphFrozen }
        await driver.stop()
    }

    @Test func startWithoutOutputsIsAnError() throws {
        let ssc = try StreamingContext(batchInterval: .seconds(1), clock: ManualClock())
        _ = ssc.queueStream([[1]]).map { $0 }
        #expect { try ssc.start() } throws: { ($0 as? StreamingError)?.code == .noOutputOperations }
        #expect(ssc.state == .stopped)
    }

    @Test func badBackpressureSettingsFailAtStart() throws {
        let config = StreamingConfiguration(backpressure: .init(isEnabled: true, pid: .init(minRate: 0)))
        let ssc = try StreamingContext(batchInterval: .seconds(1), clock: ManualClock(), configuration: config)
        try ssc.queueStream([[1]]).print(to: CapturingSink())
        #expect { try ssc.start() } throws: { error in
            let error = error as? StreamingError
            return error?.code == .invalidArgument && error?.message.contains("minRate") == true
        }
    }

    @Test func streamsOfTwoContextsCannotBeCombined() throws {
        let first = try StreamingContext(batchInterval: .seconds(1), clock: ManualClock())
        let second = try StreamingContext(batchInterval: .seconds(1), clock: ManualClock())
        let union = first.queueStream([[1]]).union(second.queueStream([[2]]))
        try union.print(to: CapturingSink())
        #expect { try first.start() } throws: { error in
            let error = error as? StreamingError
            return error?.code == .foreignStream && error?.message.contains("same context") == true
        }
    }

    @Test func batchTimesFollowTheIntervalAndEmptyBatchesRun() async throws {
        let driver = try StreamTestDriver(batchInterval: .milliseconds(250))
        let collector = OutputCollector<Int>()
        try driver.context.queueStream([[1, 2], [], [3]]).count().foreachBatch { batch, time, _ in
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()
        try await driver.runBatches(5)
        await driver.stop()
        #expect(collector.times.map(\.milliseconds) == [250, 500, 750, 1000, 1250])
        #expect(collector.batches == [[2], [0], [1], [0], [0]])
    }

    @Test func batchesQueueWhenProcessingFallsBehind() async throws {
        let listener = RecordingListener()
        let driver = try StreamTestDriver()
        driver.context.addListener(listener)
        let gate = Gate()
        let entered = EventCounter()
        let collector = OutputCollector<Int>()
        try driver.context.queueStream([[1], [2], [3], [4]]).foreachBatch { batch, time, _ in
            entered.increment()
            if time.milliseconds == 1000 { await gate.wait() }
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()
        driver.clock.advance(by: .seconds(1))
        #expect(await entered.wait(for: 1))
        // More ticks while batch 1 is stuck: they are planned and queued, not skipped or merged.
        for submitted in 2...4 {
            driver.clock.advance(by: .seconds(1))
            #expect(await listener.submitted.wait(for: submitted))
        }
        #expect(collector.batches.isEmpty)
        gate.open()
        try await driver.waitForCompletedBatches(4)
        await driver.stop()
        #expect(collector.batches == [[1], [2], [3], [4]])
        #expect(collector.times.map(\.milliseconds) == [1000, 2000, 3000, 4000])
        let delays = listener.completed.map { $0.schedulingDelay?.wholeMilliseconds }
        // Submitted at 2000, 3000, 4000; all started when batch 1 finished at 4000.
        #expect(delays == [0, 2000, 1000, 0])
    }

    @Test func failingOutputStopsTheContextAndAwaitTerminationThrows() async throws {
        struct Boom: Error {}
        let driver = try StreamTestDriver()
        let collector = OutputCollector<Int>()
        try driver.context.queueStream([[1], [2], [3]]).foreachBatch { batch, time, _ in
            if time.milliseconds == 2000 { throw Boom() }
            collector.append(time: time, elements: batch.collect())
        }
        try driver.start()
        try await driver.runBatches(1)
        driver.clock.advance(by: .seconds(2))
        await #expect {
            try await driver.context.awaitTermination()
        } throws: { error in
            let error = error as? StreamingError
            return error?.code == .outputFailed && error?.message.contains("2000 ms") == true
        }
        #expect(collector.batches == [[1]])
        #expect(driver.context.state == .stopped)
    }

    @Test func awaitTerminationWithTimeout() async throws {
        let driver = try StreamTestDriver()
        try driver.context.queueStream([[1]]).print(to: CapturingSink())
        try driver.start()
        #expect(try await driver.context.awaitTermination(timeout: .milliseconds(20)) == false)
        await driver.stop()
        #expect(try await driver.context.awaitTermination(timeout: .seconds(5)) == true)
    }

    @Test func outputsRunInDeclarationOrder() async throws {
        let driver = try StreamTestDriver()
        let log = NSLockedBox<[String]>([])
        let stream = driver.context.queueStream([[1], [2]])
        try stream.foreachBatch { _, time, _ in log.withLock { $0.append("A\(time.milliseconds)") } }
        try stream.map { $0 }.foreachBatch { _, time, _ in log.withLock { $0.append("B\(time.milliseconds)") } }
        try stream.foreachBatch { _, time, _ in log.withLock { $0.append("C\(time.milliseconds)") } }
        try driver.start()
        try await driver.runBatches(2)
        await driver.stop()
        #expect(log.withLock { $0 } == ["A1000", "B1000", "C1000", "A2000", "B2000", "C2000"])
    }
}

extension LifecycleTests {
    @Test func awaitTerminationWithZeroTimeoutReturns() async throws {
        let driver = try StreamTestDriver()
        try driver.context.queueStream([[1]]).print(to: CapturingSink())
        try driver.start()
        for _ in 0..<50 {
            #expect(try await driver.context.awaitTermination(timeout: .zero) == false)
        }
        await driver.stop()
    }
}

extension LifecycleTests {
    @Test func driverGivesUpOnABatchThatNeverCompletes() async throws {
        let driver = try StreamTestDriver(timeout: .milliseconds(100))
        let gate = Gate()
        try driver.context.queueStream([[1]]).foreachBatch { _, _, _ in await gate.wait() }
        try driver.start()
        await #expect(throws: StreamTestError.self) { try await driver.runBatches(1) }
        gate.open()
        await driver.stop()
    }
}
