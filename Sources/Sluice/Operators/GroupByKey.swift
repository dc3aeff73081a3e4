extension DStream {
    /// `(key, values)` per distinct key (Spark's `groupByKey`). A key's values
    /// keep the order of the batch (partition by partition).
    ///
    /// Values are appended to the key's array in place, so grouping costs
    /// linear time in a key's values (a hot key with many values included).
    ///
    /// - Parameter partitions: output partitions. Default: the context's
    ///   default parallelism.
    @inlinable
    public func groupByKey<K: Hashable & Sendable, V: Sendable>(
        partitions: Int? = nil
    ) -> DStream<(K, [V])> where Element == (K, V) {
        let count = partitions ?? defaultParallelism
        return derived("groupByKey") { batch, _ in
            await batch.combineByKeyInPlace(
                createCombiner: { [$0] },
                mergeValue: { $0.append($1) },
                mergeCombiners: { $0.append(contentsOf: $1) },
                partitionCount: count)
        }
    }
}
