/// The batch grid of an exactly-once job (its zero time and batch
/// interval), stored as a tiny operator state, `sluice.batchGrid`, beside
/// the operators' states: every store already commits operator state with
/// each batch and reads it back, so the grid needs no store schema of its
/// own, and data stored before it existed stays readable (such a job takes
/// the grid of its next start, as every start did before).
///
/// Without it a restart would put the slide grid of windows sliding by more
/// than one batch at the new start: `window(4 s, slide: 2 s)` stopped after
/// an odd number of batches would then output on the odd seconds, not the
/// times an uninterrupted run outputs on.
final class StoredBatchGrid: Sendable {
    /// Reserved: a user's operator of this name is refused.
    static let operatorName = "sluice.batchGrid"
    private static let zeroKey = "zeroTimeMs"
    private static let intervalKey = "batchIntervalMs"

    private let state = KeyedState<String, Int64>(name: operatorName)

    /// Reads the grid `recovered` holds, if any; starts tracking changes.
    func restore(from recovered: RecoveredJob, job: String, store: any ExactlyOnceStore) throws -> RecoveredBatchGrid? {
        guard try state.restore(from: recovered, job: job, store: store) else { return nil }
        guard let zero = state.store.get(Self.zeroKey), let interval = state.store.get(Self.intervalKey), interval > 0 else {
            throw StreamingError(
                code: .stateIncompatible,
                message: "job '\(job)': the batch grid stored in \(store.description) lacks its zero time or interval; "
                    + "reset the job (`sluice reset --job \(job) --sink …`) to start over")
        }
        return RecoveredBatchGrid(
            job: job, zeroTime: Time(milliseconds: zero), batchInterval: .milliseconds(interval),
            lastBatchTime: recovered.lastBatchTime)
    }

    /// The change to commit with a batch of `timeline`'s run: the grid, when
    /// the store does not hold it yet (the first commit, or a new interval).
    func change(for timeline: Timeline, batchInterval: Duration) throws -> OperatorStateChange? {
        let wanted = [Self.zeroKey: timeline.zeroTime.milliseconds, Self.intervalKey: batchInterval.wholeMilliseconds]
        for (key, value) in wanted where state.store.get(key) != value {
            state.store.put(key, value)
        }
        let delta = try state.encodedDelta()
        return delta.isEmpty ? nil : OperatorStateChange(name: state.name, encoding: state.encoding, delta: delta)
    }

    func markCommitted() { state.markCommitted() }
}
