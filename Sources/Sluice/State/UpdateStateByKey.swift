extension DStream {
    /// Running state per key (Spark's `updateStateByKey`): every batch, for
    /// every key that has state or values in the batch,
    /// `newState = update(valuesInBatch, oldState)`; nil removes the key. The
    /// stream's batch holds every `(key, state)` after the update (read from
    /// a snapshot of the state, so it costs no memory per key while the
    /// batch is only read by outputs).
    ///
    /// The state is kept in a ``KeyedState`` and, under an exactly-once
    /// output, committed with each batch and restored at start.
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
        let state = KeyedState<K, S>(name: name ?? registry.nextName(kind: "updateStateByKey"))
        // Initial entries count as changes, so the first commit stores them.
        for (key, value) in initialState { state.store.put(key, value) }
        let count = partitions ?? defaultParallelism
        let lent = LentSnapshot<K, S>()
        let stream: DStream<(K, S)> = derived("updateStateByKey") { batch, _ in
            // Values are appended in place (`[key, default: []].append`): a
            // combineByKey mergeValue `(values, value) -> values` copies the
            // array on every append while the dictionary still holds it,
            // which is quadratic in a key's values per batch (a frequent word).
            let perPartition: [[K: [V]]] = await Parallel.map(batch.partitions) { partition in
                var grouped: [K: [V]] = [:]
                partition.forEach { grouped[$0.0, default: []].append($0.1) }
                return grouped
            }
            var valuesByKey: [K: [V]] = [:]
            for grouped in perPartition {
                if valuesByKey.isEmpty {
                    valuesByKey = grouped
                    continue
                }
                for (key, values) in grouped { valuesByKey[key, default: []].append(contentsOf: values) }
            }
            // The previous batch's output must not share the store's storage
            // when it is written (that would copy every key).
            lent.release()
            return state.store.update { stored in
                var written: [K] = []
                for (key, values) in valuesByKey {
                    let old = stored[key]
                    if let new = update(values, old) {
                        if old.map({ !unchanged($0, new) }) ?? true { written.append(key) }
                        stored[key] = new
                    } else if stored.removeValue(forKey: key) != nil {
                        written.append(key)
                    }
                }
                // Keys without values, in place: updating a value keeps the
                // indices valid; removals wait until the walk is over.
                var removed: [K] = []
                var index = stored.startIndex
                while index != stored.endIndex {
                    let (key, old) = stored[index]
                    if valuesByKey[key] == nil {
                        if let new = update([], old) {
                            if !unchanged(old, new) {
                                written.append(key)
                                stored.values[index] = new
                            }
                        } else {
                            removed.append(key)
                        }
                    }
                    stored.formIndex(after: &index)
                }
                for key in removed { stored.removeValue(forKey: key) }
                written.append(contentsOf: removed)
                // The batch is every key's state (Spark's semantics): a
                // snapshot sharing the store's storage, not a copy; the graph
                // drops it once the batch's outputs ran.
                return (result: lent.lend(stored, partitionCount: count), written: written)
            }
        }
        registry.register(nodeID: stream.node.id, state)
        return stream
    }
}
