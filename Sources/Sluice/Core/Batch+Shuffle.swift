/// Hash partitioning of keyed batches: the one shuffle every keyed operator
/// goes through (Spark's `combineByKey` with a `HashPartitioner`).
///
/// Map side: each input partition, in parallel, combines its values per key
/// and splits the result into one dictionary per output bucket. Reduce side: each bucket, in
/// parallel, merges those dictionaries in input-partition order. The result
/// therefore does not depend on thread timing.
extension Batch {
    /// The bucket of `key` among `count` buckets.
    @inlinable @inline(__always)
    static func bucket<K: Hashable>(of key: K, count: Int) -> Int {
        Int(UInt(bitPattern: key.hashValue) % UInt(count))
    }

    /// Spark's `combineByKey`: one `(key, combiner)` per distinct key,
    /// hash-partitioned into `partitionCount` partitions.
    @inlinable
    public func combineByKey<K: Hashable & Sendable, V: Sendable, C: Sendable>(
        createCombiner: @escaping @Sendable (V) -> C,
        mergeValue: @escaping @Sendable (C, V) -> C,
        mergeCombiners: @escaping @Sendable (C, C) -> C,
        partitionCount: Int
    ) async -> Batch<(K, C)> where Element == (K, V) {
        await combineByKeyInPlace(
            createCombiner: createCombiner,
            mergeValue: { $0 = mergeValue($0, $1) },
            mergeCombiners: { $0 = mergeCombiners($0, $1) },
            partitionCount: partitionCount)
    }

    /// ``combineByKey(createCombiner:mergeValue:mergeCombiners:partitionCount:)``
    /// with merges that update the combiner in place, so that a combiner
    /// held by the shuffle's dictionary is not copied on every merge (an
    /// array of values appended to stays linear in its length).
    @inlinable
    public func combineByKeyInPlace<K: Hashable & Sendable, V: Sendable, C: Sendable>(
        createCombiner: @escaping @Sendable (V) -> C,
        mergeValue: @escaping @Sendable (inout C, V) -> Void,
        mergeCombiners: @escaping @Sendable (inout C, C) -> Void,
        partitionCount: Int
    ) async -> Batch<(K, C)> where Element == (K, V) {
        let buckets = max(1, partitionCount)
        let mapOutputs: [[[K: C]]] = await Parallel.map(partitions) { partition in
            // Combine the whole partition in one dictionary (one hash per
            // record), then split its distinct keys into buckets.
            var combined: [K: C] = [:]
            partition.forEach { pair in
                let (key, value) = pair
                if let index = combined.index(forKey: key) {
                    mergeValue(&combined.values[index], value)
                } else {
                    combined[key] = createCombiner(value)
                }
            }
            if buckets == 1 { return [combined] }
            var local = [[K: C]](repeating: [:], count: buckets)
            for (key, combiner) in combined {
                local[Batch.bucket(of: key, count: buckets)][key] = combiner
            }
            return local
        }
        return await Self.mergeBuckets(mapOutputs, buckets: buckets, mergeCombiners: mergeCombiners)
    }

    @inlinable
    static func mergeBuckets<K: Hashable & Sendable, C: Sendable>(
        _ mapOutputs: [[[K: C]]],
        buckets: Int,
        mergeCombiners: @escaping @Sendable (inout C, C) -> Void
    ) async -> Batch<(K, C)> {
        let reduced: [Partition<(K, C)>] = await Parallel.map(Array(0..<buckets)) { b in
            var merged: [K: C] = [:]
            for output in mapOutputs {
                let part = output[b]
                if merged.isEmpty {
                    merged = part
                    continue
                }
                for (key, combiner) in part {
                    if let index = merged.index(forKey: key) {
                        mergeCombiners(&merged.values[index], combiner)
                    } else {
                        merged[key] = combiner
                    }
                }
            }
            return Partition(merged.map { ($0.key, $0.value) })
        }
        return Batch<(K, C)>(partitions: reduced)
    }
}
