import DequeModule

/// One planned batch waiting to run, with its (possibly started) read.
final class PlannedBatch: Sendable {
    let time: Time
    let submissionTime: Time
    let inputs: [PlannedInput]
    private let reading = Locked<Task<[Int], any Error>?>(nil)

    init(time: Time, submissionTime: Time, inputs: [PlannedInput]) {
        self.time = time
        self.submissionTime = submissionTime
        self.inputs = inputs
    }

    /// Starts reading every input's data (once); the executor calls it for
    /// the next batch while the current one runs.
    @discardableResult
    func startReading() -> Task<[Int], any Error> {
        reading.withLock { task in
            if let task { return task }
            let inputs = self.inputs
            let started = Task<[Int], any Error> {
                var counts: [Int] = []
                for input in inputs {
                    counts.append(try await input.read())
                }
                return counts
            }
            task = started
            return started
        }
    }
}

/// The queue between the generator (producer) and the executor (the one
/// consumer). Batches leave in the order they were planned.
final class PendingBatches: Sendable {
    private struct State {
        var items: Deque<PlannedBatch> = []
        var finished = false
        var waiter: CheckedContinuation<PlannedBatch?, Never>?
    }

    private let state = Locked(State())

    /// Queues a batch; false when the queue was finished (the batch is dropped).
    @discardableResult
    func enqueue(_ batch: PlannedBatch) -> Bool {
        let action: (CheckedContinuation<PlannedBatch?, Never>?, Bool) = state.withLock { state in
            guard !state.finished else { return (nil, false) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, true)
            }
            state.items.append(batch)
            return (nil, true)
        }
        action.0?.resume(returning: batch)
        return action.1
    }

    /// No more batches will come. With `abandonQueued`, batches not yet
    /// started are dropped; otherwise they still run.
    func finish(abandonQueued: Bool) {
        let waiter: CheckedContinuation<PlannedBatch?, Never>? = state.withLock { state in
            state.finished = true
            if abandonQueued { state.items.removeAll() }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next batch, waiting for one; nil once finished and drained.
    func next() async -> PlannedBatch? {
        await withCheckedContinuation { continuation in
            let ready: PlannedBatch?? = state.withLock { state in
                if let first = state.items.popFirst() { return .some(first) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The batch that will run next, if already planned.
    func peek() -> PlannedBatch? {
        state.withLock { $0.items.first }
    }

    var count: Int { state.withLock { $0.items.count } }
}
