extension DStream {
    /// One `(key, combiner)` per distinct key of the batch (Spark's
    /// `combineByKey`): the first value of a key in a partition becomes
    /// `createCombiner(value)`, later ones are folded in with `mergeValue`,
    /// and the partitions' combiners are merged with `mergeCombiners`.
    ///
    /// - Parameter partitions: output partitions. Default: the context's
    ///   default parallelism.
    @inlinable
    public func combineByKey<K: Hashable & Sendable, V: Sendable, C: Sendable>(
        createCombiner: @escaping @Sendable (V) -> C,
        mergeValue: @escaping @Sendable (C, V) -> C,
        mergeCombiners: @escaping @Sendable (C, C) -> C,
        partitions: Int? = nil
    ) -> DStream<(K, C)> where Element == (K, V) {
        let count = partitions ?? defaultParallelism
        return derived("combineByKey") { batch, _ in
            await batch.combineByKey(
                createCombiner: createCombiner, mergeValue: mergeValue,
                mergeCombiners: mergeCombiners, partitionCount: count)
        }
    }
}
