extension DStream {
    /// `(key, combined values)` over each window, computed incrementally
    /// (Spark's `reduceByKeyAndWindow` with `invReduceFunc`): the previous
    /// window's value per key, `inverse`d with the batches that left the
    /// window and `combine`d with those that entered. `filter` (optional)
    /// drops keys after each window, e.g. `{ $0.1 != 0 }` for counts that
    /// went back to zero; without it such keys stay. When the previous window
    /// was not computed (first window) the window is computed in full.
    ///
    /// Cost per window: the batches entering and leaving plus the keys held,
    /// not the window length.
    public func reduceByKeyAndWindow<K: Hashable & Sendable, V: Sendable>(
        _ combine: @escaping @Sendable (V, V) -> V,
        inverse: @escaping @Sendable (V, V) -> V,
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil,
        filter: (@Sendable ((K, V)) -> Bool)? = nil
    ) -> DStream<(K, V)> where Element == (K, V) {
        let buckets = max(1, partitions ?? defaultParallelism)
        // Per-batch partial results, hash-partitioned into `buckets`: bucket b
        // of every batch holds the same keys as bucket b of the window state.
        let reduced = reduceByKey(combine, partitions: buckets)
        let windowSlide = slide ?? slideDuration
        let parentSlide = reduced.slideDuration
        let previous = Locked<(time: Time, buckets: [[K: V]])?>(nil)
        return DStream<(K, V)>(
            name: "reduceByKeyAndWindow", graph: node.graph, slideDuration: windowSlide,
            parents: [reduced.node], parentRememberExtra: length + windowSlide,
            validate: { _ in windowValidation(length: length, slide: windowSlide, parentSlide: parentSlide) }
        ) { time in
            let state: [[K: V]]
            if let last = previous.value, last.time == time - windowSlide {
                let leaving = try await reduced.batches(in: time - windowSlide - length, time - length)
                let entering = try await reduced.batches(in: time - windowSlide, time)
                let old = last.buckets
                state = await Parallel.map(Array(0..<buckets)) { b in
                    var current = old[b]
                    for batch in leaving where b < batch.partitions.count {
                        batch.partitions[b].forEach { key, value in
                            // A key the previous window does not hold has nothing to subtract from (as in Spark).
                            if let index = current.index(forKey: key) {
                                current.values[index] = inverse(current.values[index], value)
                            }
                        }
                    }
                    for batch in entering where b < batch.partitions.count {
                        batch.partitions[b].forEach { key, value in
                            if let index = current.index(forKey: key) {
                                current.values[index] = combine(current.values[index], value)
                            } else {
                                current[key] = value
                            }
                        }
                    }
                    return filter.map { keep in current.filter { keep(($0.key, $0.value)) } } ?? current
                }
            } else {
                let window = try await reduced.batches(in: time - length, time)
                state = await Parallel.map(Array(0..<buckets)) { b in
                    var current: [K: V] = [:]
                    for batch in window where b < batch.partitions.count {
                        batch.partitions[b].forEach { key, value in
                            if let index = current.index(forKey: key) {
                                current.values[index] = combine(current.values[index], value)
                            } else {
                                current[key] = value
                            }
                        }
                    }
                    return filter.map { keep in current.filter { keep(($0.key, $0.value)) } } ?? current
                }
            }
            previous.withLock { $0 = (time, state) }
            return Batch(partitions: state.map { bucket in Partition(bucket.map { ($0.key, $0.value) }) })
        }
    }
}
