extension DStream {
    /// `(key, values)` per distinct key (Spark's `groupByKey`). A key's values
    /// keep the order of the batch (partition by partition).
    ///
    /// - Parameter partitions: output partitions. Default: the context's
    ///   default parallelism.
    @inlinable
    public func groupByKey<K: Hashable & Sendable, V: Sendable>(
        partitions: Int? = nil
    ) -> DStream<(K, [V])> where Element == (K, V) {
        combineByKey(
            createCombiner: { [$0] },
            mergeValue: { $0 + [$1] },
            mergeCombiners: { $0 + $1 },
            partitions: partitions)
    }
}
