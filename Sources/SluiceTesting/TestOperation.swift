import Foundation
import Sluice

/// Spark's `testOperation`: runs `operation` over `input` (one inner array
/// per batch, split into `partitions` partitions) on a manual clock, batch by
/// batch, and returns every batch's output elements (partition order).
public func testOperation<Input: Sendable, Output: Sendable>(
    input: [[Input]],
    partitions: Int = 2,
    batches: Int? = nil,
    operation: (DStream<Input>) -> DStream<Output>
) async throws -> [[Output]] {
    let driver = try StreamTestDriver()
    let stream = driver.context.queueStream(input, partitions: partitions)
    let collector = OutputCollector<Output>()
    try operation(stream).foreachBatch { batch, time, _ in
        collector.append(time: time, elements: batch.collect())
    }
    return try await run(driver, collector: collector, batches: batches ?? input.count)
}

/// `testOperation` for operators of two streams (union, join, cogroup …).
public func testOperation<First: Sendable, Second: Sendable, Output: Sendable>(
    input first: [[First]],
    _ second: [[Second]],
    partitions: Int = 2,
    operation: (DStream<First>, DStream<Second>) -> DStream<Output>
) async throws -> [[Output]] {
    let driver = try StreamTestDriver()
    let left = driver.context.queueStream(first, partitions: partitions)
    let right = driver.context.queueStream(second, partitions: partitions)
    let collector = OutputCollector<Output>()
    try operation(left, right).foreachBatch { batch, time, _ in
        collector.append(time: time, elements: batch.collect())
    }
    return try await run(driver, collector: collector, batches: max(first.count, second.count))
}

private func run<Output>(_ driver: StreamTestDriver, collector: OutputCollector<Output>, batches: Int) async throws -> [[Output]] {
    try driver.start()
    do {
        try await driver.runBatches(batches)
    } catch {
        await driver.stop(graceful: false)
        throw error
    }
    await driver.stop()
    return collector.batches
}

/// Collects output batches by time.
public final class OutputCollector<Element: Sendable>: Sendable {
    private let storage = NSLockedBox<[(Time, [Element])]>([])

    public init() {}

    public func append(time: Time, elements: [Element]) {
        storage.withLock { $0.append((time, elements)) }
    }

    /// Output elements per batch, in batch order.
    public var batches: [[Element]] { storage.withLock { $0.map(\.1) } }

    /// Batch times seen, in order.
    public var times: [Time] { storage.withLock { $0.map(\.0) } }
}

/// A lock-protected value for test helpers.
public final class NSLockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
