/// The batches a stream has computed, by time (Spark's `generatedRDDs`) and
/// by task (``TaskScope/current``): a job split into tasks computes each
/// task's batches apart.
@usableFromInline
final class BatchMemo<Element: Sendable>: Sendable {
    @usableFromInline
    init() {}

    private struct Key: Hashable {
        var time: Time
        var task: TaskKey?
    }

    private let batches = Locked<[Key: Batch<Element>]>([:])

    /// The current task's batch at `time`.
    func get(_ time: Time) -> Batch<Element>? {
        get(time, task: TaskScope.current)
    }

    func get(_ time: Time, task: TaskKey?) -> Batch<Element>? {
        batches.withLock { $0[Key(time: time, task: task)] }
    }

    /// Remembers the current task's batch at `time`.
    func set(_ time: Time, _ batch: Batch<Element>) {
        set(time, task: TaskScope.current, batch)
    }

    func set(_ time: Time, task: TaskKey?, _ batch: Batch<Element>) {
        batches.withLock { $0[Key(time: time, task: task)] = batch }
    }

    func forget(through time: Time) {
        batches.withLock { stored in
            stored = stored.filter { $0.key.time > time }
        }
    }

    var times: [Time] {
        batches.withLock { Set($0.keys.map(\.time)).sorted() }
    }
}
