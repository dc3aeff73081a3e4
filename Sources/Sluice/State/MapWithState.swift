import DequeModule

extension DStream {
    /// Keeps state per key and maps records with it (Spark's `mapWithState`):
    /// `spec`'s function is called for every record of the batch, in batch
    /// order, with the key's state, and its non-nil results form the
    /// `mapped` stream. With a timeout, each key idle for longer gets one
    /// more call with `isTimingOut` at the first batch after the timeout,
    /// then is removed. `stateSnapshots` holds every `(key, state)` after
    /// each batch.
    ///
    /// Per-batch cost grows with the keys of the batch (and those timing
    /// out), not with the keys held. The state is a ``KeyedState`` of
    /// ``TimestampedState``, committed and restored by an exactly-once output.
    public func mapWithState<K: Hashable & Sendable & Codable, V: Sendable, S: Sendable & Codable, Mapped: Sendable>(
        _ spec: StateSpec<K, V, S, Mapped>
    ) -> (mapped: DStream<Mapped>, stateSnapshots: DStream<(K, S)>) where Element == (K, V) {
        let registry = node.graph.stateRegistry
        let state = KeyedState<K, TimestampedState<S>>(name: spec.name ?? registry.nextName(kind: "mapWithState"))
        // Initial keys get their time at the first batch (Int64.min until then).
        for (key, value) in spec.initialState {
            state.store.put(key, TimestampedState(state: value, updated: .min))
        }
        let count = max(1, spec.partitions ?? defaultParallelism)
        let timeout = spec.idleTimeout?.wholeMilliseconds
        let function = spec.function
        let index = Locked(IdleIndex<K>())
        let lent = LentSnapshot<K, TimestampedState<S>>()
        let mapped: DStream<Mapped> = derived("mapWithState") { batch, time in
            let now = time.milliseconds
            let partitions = await batch.materialized().partitions
            // A state snapshot lent out must not share the store's storage
            // when it is written (that would copy every key).
            lent.release()
            // Without an exactly-once output nothing reads the written keys:
            // not listing them saves an array of every key of the batch.
            // (Tracking begins when the output is set up, before any batch.)
            let tracking = state.store.tracksChanges
            let output: [Mapped] = state.store.update { stored in
                var written: [K] = []
                var output: [Mapped] = []
                if timeout != nil {
                    // Only timeouts need the index; without one the first batch stays O(batch).
                    index.withLock { index in
                        if !index.isBuilt { index.rebuild(from: &stored, firstBatch: now) }
                    }
                }
                // Keys updated, for the idle index (only kept with a timeout).
                var touched: [K] = []
                for partition in partitions {
                    partition.forEach { pair in
                        let (key, value) = pair
                        var handle = MapState(stored[key]?.state, isTimingOut: false)
                        if let result = function(key, value, &handle) { output.append(result) }
                        if handle.removed {
                            if stored.removeValue(forKey: key) != nil, tracking { written.append(key) }
                        } else if let new = handle.value, handle.updated || stored[key] != nil {
                            stored[key] = TimestampedState(state: new, updated: now)
                            if tracking { written.append(key) }
                            if timeout != nil { touched.append(key) }
                        }
                    }
                }
                if let timeout {
                    let expired = index.withLock { index in
                        index.record(touched, at: now)
                        return index.popIdle(before: now - timeout, stored: stored)
                    }
                    for key in expired {
                        guard let entry = stored[key] else { continue }
                        var handle = MapState<S>(entry.state, isTimingOut: true)
                        if let result = function(key, nil, &handle) { output.append(result) }
                        stored.removeValue(forKey: key)
                        if tracking { written.append(key) }
                    }
                }
                return (result: output, written: written)
            }
            return Batch(output, partitionCount: count)
        }
        registry.register(nodeID: mapped.node.id, state)
        // Every key's state after the batch: a copy-on-write snapshot of the
        // store's dictionary (no bytes per key), as updateStateByKey's
        // batch; the next batch copies it out first only if someone still
        // holds it (see `LentSnapshot`).
        let snapshots: DStream<(K, S)> = mapped.derived("stateSnapshots") { _, _ in
            state.store.update { stored in
                (result: lent.lend(stored, partitionCount: count) { ($0.0, $0.1.state) }, written: [])
            }
        }
        return (mapped, snapshots)
    }
}

/// Keys by the batch time they were last touched, oldest first, so that
/// finding idle keys costs what expires, not what is held. Entries go stale
/// when a key is touched again; stale entries are skipped when popped.
struct IdleIndex<K: Hashable & Sendable>: Sendable {
    private var entries: Deque<(time: Int64, keys: [K])> = []
    private(set) var isBuilt = false

    /// Indexes everything stored (after a restore or at the first batch).
    mutating func rebuild<S>(from stored: inout [K: TimestampedState<S>], firstBatch: Int64) {
        var byTime: [Int64: [K]] = [:]
        for (key, entry) in stored {
            var entry = entry
            if entry.updated == .min {
                entry.updated = firstBatch
                stored[key] = entry
            }
            byTime[entry.updated, default: []].append(key)
        }
        entries = Deque(byTime.sorted { $0.key < $1.key }.map { (time: $0.key, keys: $0.value) })
        isBuilt = true
    }

    mutating func record(_ keys: [K], at time: Int64) {
        guard !keys.isEmpty else { return }
        entries.append((time, keys))
    }

    /// Keys whose last touch is before `threshold` and still current.
    mutating func popIdle<S>(before threshold: Int64, stored: [K: TimestampedState<S>]) -> [K] {
        var idle: [K] = []
        var seen: Set<K> = []
        while let first = entries.first, first.time < threshold {
            entries.removeFirst()
            for key in first.keys where stored[key]?.updated == first.time && seen.insert(key).inserted {
                idle.append(key)
            }
        }
        return idle
    }
}
