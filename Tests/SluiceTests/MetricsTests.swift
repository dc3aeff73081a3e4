import CoreMetrics
import Foundation
import Sluice
import SluiceTesting
import Testing

/// A metrics factory that keeps every value, keyed by label and dimensions.
final class CapturingMetrics: MetricsFactory, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: [Int64]] = [:]

    func record(_ key: String, _ value: Int64) {
        lock.withLock { values[key, default: []].append(value) }
    }

    func values(_ key: String) -> [Int64] { lock.withLock { values[key] ?? [] } }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
    }

    final class Handler: CounterHandler, RecorderHandler, TimerHandler, @unchecked Sendable {
        let key: String
        let sink: CapturingMetrics
        init(_ key: String, _ sink: CapturingMetrics) {
            self.key = key
            self.sink = sink
        }
        func increment(by amount: Int64) { sink.record(key, amount) }
        func reset() {}
        func record(_ value: Int64) { sink.record(key, value) }
        func record(_ value: Double) { sink.record(key, Int64(value)) }
        func recordNanoseconds(_ duration: Int64) { sink.record(key, duration) }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(Self.key(label, dimensions), self)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(Self.key(label, dimensions), self)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(Self.key(label, dimensions), self)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

@Suite struct MetricsTests {
    @Test func batchesRecordsDelaysAndLagAreReported() async throws {
        let metrics = CapturingMetrics()
        let driver = try StreamTestDriver(configuration: StreamingConfiguration(defaultParallelism: 2, metricsFactory: metrics))
        let clock = driver.clock
        try driver.context.inputStream(FakeLogSource(growth: 2)).foreachBatch { _, time, _ in
            // Processing takes 300 ms of manual time in batch 2.
            if time.milliseconds == 2000 { clock.advance(by: .milliseconds(300)) }
        }
        try driver.start()
        try await driver.runBatches(1)
        clock.advance(by: .seconds(1))
        try await driver.waitForCompletedBatches(2)
        await driver.stop()
        #expect(metrics.values("sluice_batches_total") == [1, 1])
        // Partition 0 grows by 2 and partition 1 by 4 per batch.
        #expect(metrics.values("sluice_records_total") == [6, 6])
        #expect(metrics.values("sluice_batch_processing_time") == [0, 300_000_000])
        #expect(metrics.values("sluice_batch_scheduling_delay") == [0, 0])
        #expect(metrics.values("sluice_partition_lag,topic=t,partition=1") == [0, 0])
    }

    @Test func undecodableLinesAreCountedInMetrics() async throws {
        let metrics = CapturingMetrics()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let driver = try StreamTestDriver(configuration: StreamingConfiguration(defaultParallelism: 2, metricsFactory: metrics))
        try driver.context.textFileStream(directory: directory.path).foreachBatch { _, _, _ in }
        try driver.start()
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("staging-\(UUID().uuidString)")
        try Data([0xFF, 0x0A, 0x61, 0x0A, 0xFE, 0x0A]).write(to: staging)
        try FileManager.default.moveItem(at: staging, to: directory.appendingPathComponent("bad.txt"))
        try await driver.runBatches(1)
        await driver.stop()
        #expect(metrics.values("sluice_input_undecodable_records_total,input=files \(directory.path)") == [2])
    }
}
