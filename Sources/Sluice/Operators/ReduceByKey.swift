extension DStream {
    /// One `(key, value)` per distinct key: the key's values combined with
    /// `combine`, which must be associative and commutative (Spark's
    /// `reduceByKey`). Values are combined inside each input partition first,
    /// then across partitions, in parallel.
    ///
    /// - Parameter partitions: output partitions. Default: the context's
    ///   default parallelism.
    @inlinable
    public func reduceByKey<K: Hashable & Sendable, V: Sendable>(
        _ combine: @escaping @Sendable (V, V) -> V,
        partitions: Int? = nil
    ) -> DStream<(K, V)> where Element == (K, V) {
        let count = partitions ?? defaultParallelism
        return derived("reduceByKey") { batch, _ in
            await batch.combineByKey(
                createCombiner: { $0 }, mergeValue: combine, mergeCombiners: combine,
                partitionCount: count)
        }
    }
}
