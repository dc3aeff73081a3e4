import Foundation
import Sluice
import SluiceKafka
import SluiceKafkaStream
import SluiceTesting
import Synchronization
import XCTest

/// Backpressure on the direct stream with the real clock: when processing
/// is slower than the interval, the PID estimator lowers the planned ranges;
/// when processing becomes fast again, it raises them back.
final class DirectStreamBackpressureTests: XCTestCase {
    final class Recorder: StreamingListener {
        let planned = Mutex<[Int]>([])
        func batchCompleted(_ info: BatchInfo) {
            planned.withLock { $0.append(Int(info.offsetRanges.reduce(0) { $0 + $1.count })) }
        }
    }

    func testSlowProcessingLowersTheRateAndFastProcessingRaisesItBack() async throws {
        // Enough records that neither phase runs out of data. Once fast, the
        // estimator's rate jumps (a batch read from the buffer takes no
        // time), so maxRatePerPartition bounds the fast phase's batches
        // (10,000 records per partition per batch) to leave data for several.
        let fixture = try KafkaStreamFixture(partitions: 2, count: 200_000)
        var streaming = StreamingConfiguration(defaultParallelism: 2)
        streaming.backpressure = .init(isEnabled: true, initialRate: 40_000)
        let context = try StreamingContext(batchInterval: .milliseconds(200), configuration: streaming)
        let recorder = Recorder()
        context.addListener(recorder)
        let slow = Mutex(true)
        var source = fixture.sourceConfiguration()
        source.maxRatePerPartition = 50_000
        try context.kafkaDirectStream(source).foreachBatch { batch, _, _ in
            // Simulated work: 50 µs a record while slow (20,000 records/s), none after.
            if slow.withLock({ $0 }) {
                try await Task.sleep(for: .microseconds(50 * batch.count()))
            }
        }
        try context.start()

        func waitForBatches(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while recorder.planned.withLock({ $0.count }) < count {
                guard ContinuousClock.now < deadline else { XCTFail("only \(recorder.planned.withLock { $0.count }) batches"); return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await waitForBatches(12)
        let slowPhase = recorder.planned.withLock { $0 }
        slow.withLock { $0 = false }
        // Queued batches from the slow phase must drain first (the PID's integral
        // term holds the rate down while scheduling delay remains).
        try await waitForBatches(slowPhase.count + 20)
        await context.stop(graceful: false)
        let all = recorder.planned.withLock { $0 }
        let fastPhase = Array(all.dropFirst(slowPhase.count + 2))

        // The first batch follows the initial rate: 40,000/s × 0.2 s.
        XCTAssertEqual(slowPhase.first, 8_000, "\(all)")
        let settledSlow = slowPhase.suffix(4)
        // 20,000 records/s of processing fits ~4,000 records in 0.2 s; the
        // estimator must have come down well below the initial 8,000.
        XCTAssertLessThan(settledSlow.max() ?? .max, 6_000, "slow phase \(slowPhase)")
        XCTAssertGreaterThan(fastPhase.max() ?? 0, settledSlow.max() ?? .max, "rate raised back once fast: \(all)")
    }
}
