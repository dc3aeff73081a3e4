extension DStream {
    /// Running state per key (Spark's `updateStateByKey`): every batch, for
    /// every key that has state or values in the batch,
    /// `newState = update(valuesInBatch, oldState)`; nil removes the key. The
    /// stream's batch holds every `(key, state)` after the update (read from
    /// a snapshot of the state, so it costs no memory per key while the
    /// batch is only read by outputs).
    ///
    /// The state is kept in a ``KeyedState`` and, under an exactly-once
    /// output, committed with each batch and restored at start. Like
    /// Spark's (an RDD hash-partitioned by key), it is split into shards by
    /// key hash that are updated in parallel: `update` may run for keys of
    /// different shards at the same time, never twice at once for one key.
    ///
    /// - Parameters:
    ///   - name: a stable name for the stored state. Default: `updateStateByKey#n`
    ///     (n counts stateful operators of this kind in creation order).
    ///   - initialState: state before the first batch (ignored when state is recovered).
    ///   - partitions: output partitions. Default: the context's default parallelism.
    @inlinable
    public func updateStateByKey<K: Hashable & Sendable & Codable, V: Sendable, S: Sendable & Codable>(
        name: String? = nil,
        initialState: [K: S] = [:],
        partitions: Int? = nil,
        _ update: @escaping @Sendable (_ values: [V], _ state: S?) -> S?
    ) -> DStream<(K, S)> where Element == (K, V) {
        updateStateByKey(name: name, initialState: initialState, partitions: partitions, unchanged: { _, _ in false }, update)
    }

    /// ``updateStateByKey(name:initialState:partitions:_:)`` for equatable
    /// state: a key whose state did not change is not part of the batch's
    /// committed delta, so commits cost what changed.
    @inlinable
    public func updateStateByKey<K: Hashable & Sendable & Codable, V: Sendable, S: Sendable & Codable & Equatable>(
        name: String? = nil,
        initialState: [K: S] = [:],
        partitions: Int? = nil,
        _ update: @escaping @Sendable (_ values: [V], _ state: S?) -> S?
    ) -> DStream<(K, S)> where Element == (K, V) {
        updateStateByKey(name: name, initialState: initialState, partitions: partitions, unchanged: { $0 == $1 }, update)
    }

    // Inlinable, like the shuffle, so that the walk over every key is
    // specialised for the caller's key and state types.
    @inlinable
    func updateStateByKey<K: Hashable & Sendable & Codable, V: Sendable, S: Sendable & Codable>(
        name: String?,
        initialState: [K: S],
        partitions: Int?,
        unchanged: @escaping @Sendable (S, S) -> Bool,
        _ update: @escaping @Sendable (_ values: [V], _ state: S?) -> S?
    ) -> DStream<(K, S)> where Element == (K, V) {
        let registry = node.graph.stateRegistry
        let count = partitions ?? defaultParallelism
        // Initial state belongs to the whole job: a job split into tasks
        // cannot tell which task holds a key before its records arrive.
        let state = KeyedState<K, S>(
            name: name ?? registry.nextName(kind: "updateStateByKey"), shards: UpdateStateShards.count(partitions: count),
            supportsTasks: initialState.isEmpty)
        // Initial entries count as changes, so the first commit stores them.
        for (key, value) in initialState { state.store.put(key, value) }
        let lents = node.graph.perTaskValues.make { LentSnapshot<K, S>() }
        let stream: DStream<(K, S)> = derived("updateStateByKey") { batch, _ in
            // The current task's store (the job's, without tasks).
            let store = state.store
            let lent = lents.current
            // Each input partition, in parallel, groups its values by key
            // into one dictionary per shard of the store. Values are appended
            // in place (`[key, default: []].append`): a combineByKey
            // mergeValue `(values, value) -> values` copies the array on
            // every append while the dictionary still holds it, which is
            // quadratic in a key's values per batch (a frequent word).
            let shardCount = store.shardCount
            let grouped: [[[K: [V]]]] = await Parallel.map(batch.partitions) { partition in
                var byShard = [[K: [V]]](repeating: [:], count: shardCount)
                partition.forEach { byShard[store.shard(of: $0.0)][$0.0, default: []].append($0.1) }
                return byShard
            }
            // The previous batch's output must not share the store's storage
            // when it is written (that would copy every key).
            lent.release()
            // Without an exactly-once output nothing reads the written keys
            // (tracking begins when the output is set up, before any batch).
            let tracking = store.tracksChanges
            // Each shard, in parallel, updates its keys. A key's values
            // come from every input partition, in partition order, as one
            // thread would see them; shards hold disjoint keys, so the result
            // does not depend on which runs first.
            let shards: [[K: S]] = await store.updateShards { shard, stored in
                var written: [K] = []
                var removed: [K] = []
                var keyed: [K] = []
                for (part, group) in grouped.enumerated() {
                    for (key, values) in group[shard] {
                        // A key of several partitions is done with its first.
                        if part > 0, grouped[..<part].contains(where: { $0[shard][key] != nil }) { continue }
                        var all = values
                        for later in grouped[(part + 1)...] {
                            if let more = later[shard][key] { all.append(contentsOf: more) }
                        }
                        keyed.append(key)
                        let old = stored[key]
                        if let new = update(all, old) {
                            if tracking, old.map({ !unchanged($0, new) }) ?? true { written.append(key) }
                            stored[key] = new
                        } else if old != nil {
                            // Removed after the walk below, which needs indices to stay valid.
                            removed.append(key)
                        }
                    }
                }
                // Keys without values, in place: updating a value keeps the
                // indices valid; removals wait until the walk is over. The
                // keys that had values are skipped by their index (sorted,
                // compared as the walk goes), not by hashing every key held.
                var skipped = keyed.compactMap { stored.index(forKey: $0) }
                skipped.sort()
                var next = 0
                var index = stored.startIndex
                while index != stored.endIndex {
                    if next < skipped.count, skipped[next] == index {
                        next += 1
                    } else {
                        let old = stored.values[index]
                        if let new = update([], old) {
                            if !unchanged(old, new) {
                                if tracking { written.append(stored.keys[index]) }
                                stored.values[index] = new
                            }
                        } else {
                            removed.append(stored.keys[index])
                        }
                    }
                    stored.formIndex(after: &index)
                }
                for key in removed { stored.removeValue(forKey: key) }
                if tracking { written.append(contentsOf: removed) }
                return (result: stored, written: written)
            }
            // The batch is every key's state (Spark's semantics): a snapshot
            // sharing the shards' storage, not a copy; the graph drops it
            // once the batch's outputs ran.
            return lent.lend(shards: shards, partitionCount: count)
        }
        registry.register(nodeID: stream.node.id, state)
        return stream
    }
}

/// How many shards updateStateByKey's store has.
@usableFromInline
enum UpdateStateShards {
    /// At least 16, and a power of two at least `partitions`: a growing
    /// shard reallocates a sixteenth of the table or less, and every
    /// core has shards to update.
    @usableFromInline
    static func count(partitions: Int) -> Int {
        var shards = 16
        while shards < partitions { shards *= 2 }
        return shards
    }
}
