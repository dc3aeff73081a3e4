/// The batches a stream has computed, by time (Spark's `generatedRDDs`).
final class BatchMemo<Element: Sendable>: Sendable {
    private let batches = Locked<[Time: Batch<Element>]>([:])

    func get(_ time: Time) -> Batch<Element>? {
        batches.withLock { $0[time] }
    }

    func set(_ time: Time, _ batch: Batch<Element>) {
        batches.withLock { $0[time] = batch }
    }

    func forget(through time: Time) {
        batches.withLock { stored in
            stored = stored.filter { $0.key > time }
        }
    }

    var times: [Time] {
        batches.withLock { $0.keys.sorted() }
    }
}
