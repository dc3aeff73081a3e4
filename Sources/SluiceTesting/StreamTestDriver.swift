import Foundation
import Sluice

/// Drives a `StreamingContext` on a `ManualClock`, batch by batch: advance
/// the clock one interval, wait (bounded, in real time) until that batch has
/// completed. No sleeping: waits end on the context's own events.
public final class StreamTestDriver: Sendable {
    public let clock: ManualClock
    public let context: StreamingContext
    /// How long to wait for one batch before failing. Default: 10 s.
    public let timeout: Duration
    private let tracker = BatchTracker()

    /// A context with `batchInterval` on a fresh manual clock reading
    /// `startingAt` (default zero): the first batch runs one interval later,
    /// once the clock is advanced.
    public init(
        batchInterval: Duration = .seconds(1),
        configuration: StreamingConfiguration = StreamingConfiguration(defaultParallelism: 2),
        timeout: Duration = .seconds(10),
        startingAt: Duration = .zero
    ) throws {
        let clock = ManualClock(now: ManualClock.Instant(offset: startingAt))
        self.clock = clock
        self.timeout = timeout
        self.context = try StreamingContext(
            batchInterval: batchInterval, clock: clock, origin: Time(milliseconds: startingAt.wholeMilliseconds),
            configuration: configuration)
        context.addListener(tracker)
    }

    /// Batch times completed so far, in order.
    public var completedBatches: [Time] { tracker.completed }

    /// Completed batches' infos, in order.
    public var completedInfos: [BatchInfo] { tracker.infos }

    /// Starts the context.
    public func start() throws {
        try context.start()
    }

    /// Advances the clock by one interval `count` times, waiting for each
    /// resulting batch to complete.
    public func runBatches(_ count: Int = 1) async throws {
        for _ in 0..<count {
            let target = tracker.completed.count + 1
            clock.advance(by: context.batchInterval)
            try await waitForCompletedBatches(target)
        }
    }

    /// Runs batches until `done` holds, at most `limit` of them, with
    /// `pause` of real time between batches that leave it false: records a
    /// job wrote to Kafka itself (a repartition topic) reach its consumers
    /// through fetches in real time, while the manual clock runs batches
    /// back to back. Throws when `done` still does not hold.
    public func runBatches(
        until done: () async throws -> Bool, limit: Int = 200, pause: Duration = .milliseconds(50)
    ) async throws {
        var ran = 0
        while try await !done() {
            guard ran < limit else {
                throw StreamTestError(message: "the condition still did not hold after \(limit) batches")
            }
            try await runBatches(1)
            ran += 1
            if try await !done() { try await Task.sleep(for: pause) }
        }
    }

    /// Waits until `count` batches have completed in total.
    public func waitForCompletedBatches(_ count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.tracker.wait(forCount: count) }
            group.addTask {
                try await Task.sleep(for: self.timeout)
                throw StreamTestError(message: "batch \(count) did not complete within \(self.timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Stops the context (gracefully by default) and waits for it.
    public func stop(graceful: Bool = true) async {
        await context.stop(graceful: graceful)
    }
}

/// Why a test driver gave up.
public struct StreamTestError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Counts completed batches and wakes waiters.
final class BatchTracker: StreamingListener, @unchecked Sendable {
    private let lock = NSLock()
    private var infosStorage: [BatchInfo] = []
    private var stopped: StreamTestError?
    private var waiters: [(id: Int, count: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextWaiterID = 0

    var completed: [Time] { lock.withLock { infosStorage.map(\.batchTime) } }
    var infos: [BatchInfo] { lock.withLock { infosStorage } }

    func batchCompleted(_ info: BatchInfo) {
        let ready: [CheckedContinuation<Void, any Error>] = lock.withLock {
            infosStorage.append(info)
            let done = waiters.filter { $0.count <= infosStorage.count }
            waiters.removeAll { $0.count <= infosStorage.count }
            return done.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    func streamingStopped(failure: StreamingError?) {
        let error = StreamTestError(message: "the context stopped" + (failure.map { ": \($0)" } ?? ""))
        let all: [CheckedContinuation<Void, any Error>] = lock.withLock {
            stopped = error
            defer { waiters = [] }
            return waiters.map(\.continuation)
        }
        for continuation in all { continuation.resume(throwing: error) }
    }

    /// Waits until `count` batches completed; throws if the context stops
    /// first or the waiting task is cancelled.
    func wait(forCount count: Int) async throws {
        let id = lock.withLock { () -> Int in
            nextWaiterID += 1
            return nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = lock.withLock {
                    if infosStorage.count >= count { return .success(()) }
                    if let stopped { return .failure(stopped) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    waiters.append((id, count, continuation))
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, any Error>? = lock.withLock {
                guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
