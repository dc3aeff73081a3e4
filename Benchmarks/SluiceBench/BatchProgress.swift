import Foundation
import Sluice

/// Follows a running context's batches (a `StreamingListener`): records
/// and processing time of non-empty batches, when the first batch was due,
/// and a wait that ends when `target` records have been processed.
final class BatchProgress: StreamingListener, @unchecked Sendable {
    private let lock = NSLock()
    private let target: Int
    private var records = 0
    private var processingMilliseconds: Int64 = 0
    private var firstDataStart: Int64?
    private var firstDataBatchTime: Int64?
    private var lastEnd: Int64?
    private(set) var firstBatchTime: Int64?
    private var batches = 0
    private var firstBatchRecords: Int?
    private var waiter: CheckedContinuation<Void, any Error>?
    private var failure: (any Error)?
    private var done = false

    init(target: Int) { self.target = target }

    struct Summary {
        var records: Int
        var batches: Int
        /// Sum of processing times (start of the batch's outputs to their end) of batches with records.
        var processingSeconds: Double
        /// Unix ms: processing start of the first batch with records.
        var firstDataStart: Int64
        /// Unix ms: end of the last batch.
        var lastEnd: Int64
        /// Unix ms: the first batch's time.
        var firstBatchTime: Int64
        /// Records of the first batch.
        var firstBatchRecords: Int
        /// Unix ms: the batch time of the first batch with records.
        var firstDataBatchTime: Int64
    }

    var summary: Summary {
        lock.withLock {
            Summary(records: records, batches: batches, processingSeconds: Double(processingMilliseconds) / 1000,
                    firstDataStart: firstDataStart ?? 0, lastEnd: lastEnd ?? 0, firstBatchTime: firstBatchTime ?? 0,
                    firstBatchRecords: firstBatchRecords ?? 0, firstDataBatchTime: firstDataBatchTime ?? 0)
        }
    }

    func streamingStarted(firstBatchTime: Time) {
        lock.withLock { self.firstBatchTime = firstBatchTime.milliseconds }
    }

    func batchCompleted(_ info: BatchInfo) {
        let ready: CheckedContinuation<Void, any Error>? = lock.withLock {
            let count = info.numRecords
            if firstBatchRecords == nil { firstBatchRecords = count }
            if count > 0 {
                records += count
                batches += 1
                if firstDataBatchTime == nil { firstDataBatchTime = info.batchTime.milliseconds }
                if let start = info.processingStartTime?.milliseconds {
                    if firstDataStart == nil { firstDataStart = start }
                    if let end = info.processingEndTime?.milliseconds { processingMilliseconds += end - start }
                }
                lastEnd = info.processingEndTime?.milliseconds
            }
            guard records >= target, !done else { return nil }
            done = true
            defer { waiter = nil }
            return waiter
        }
        ready?.resume()
    }

    func streamingStopped(failure: StreamingError?) {
        let pending: CheckedContinuation<Void, any Error>? = lock.withLock {
            self.failure = failure ?? BenchError("the context stopped before \(target) records were processed")
            defer { waiter = nil }
            return done ? nil : waiter
        }
        pending?.resume(throwing: failure ?? BenchError("the context stopped early"))
    }

    /// Returns once `target` records have been processed; throws if the context stops first or after `timeout`.
    func wait(timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let result: Result<Void, any Error>? = self.lock.withLock {
                        if self.done { return .success(()) }
                        if let failure = self.failure { return .failure(failure) }
                        self.waiter = continuation
                        return nil
                    }
                    if let result { continuation.resume(with: result) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                // The waiting task cannot be cancelled: give up on the whole child.
                FileHandle.standardError.write(Data("not all \(self.target) records were processed within \(timeout) (\(self.summary.records) were)\n".utf8))
                exit(3)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }
}
