extension DStream {
    /// `(key, (v, w))` for every pair of values with the same key in both
    /// streams' batches (Spark's `join`); keys on one side only are dropped.
    @inlinable
    public func join<K: Hashable & Sendable, V: Sendable, W: Sendable>(
        _ other: DStream<(K, W)>, partitions: Int? = nil
    ) -> DStream<(K, (V, W))> where Element == (K, V) {
        cogroup(other, partitions: partitions).flatMap { key, groups in
            groups.0.flatMap { v in groups.1.map { w in (key, (v, w)) } }
        }
    }

    /// Like `join`, keeping keys found only here, with `nil` for the other
    /// side (Spark's `leftOuterJoin`).
    @inlinable
    public func leftOuterJoin<K: Hashable & Sendable, V: Sendable, W: Sendable>(
        _ other: DStream<(K, W)>, partitions: Int? = nil
    ) -> DStream<(K, (V, W?))> where Element == (K, V) {
        cogroup(other, partitions: partitions).flatMap { key, groups in
            let right: [W?] = groups.1.isEmpty ? [nil] : groups.1.map { $0 }
            return groups.0.flatMap { v in right.map { w in (key, (v, w)) } }
        }
    }

    /// Like `join`, keeping keys found only in `other`, with `nil` for this
    /// side (Spark's `rightOuterJoin`).
    @inlinable
    public func rightOuterJoin<K: Hashable & Sendable, V: Sendable, W: Sendable>(
        _ other: DStream<(K, W)>, partitions: Int? = nil
    ) -> DStream<(K, (V?, W))> where Element == (K, V) {
        cogroup(other, partitions: partitions).flatMap { key, groups in
            let left: [V?] = groups.0.isEmpty ? [nil] : groups.0.map { $0 }
            return left.flatMap { v in groups.1.map { w in (key, (v, w)) } }
        }
    }

    /// Like `join`, keeping keys found on either side only, with `nil` for
    /// the missing side (Spark's `fullOuterJoin`).
    @inlinable
    public func fullOuterJoin<K: Hashable & Sendable, V: Sendable, W: Sendable>(
        _ other: DStream<(K, W)>, partitions: Int? = nil
    ) -> DStream<(K, (V?, W?))> where Element == (K, V) {
        cogroup(other, partitions: partitions).flatMap { key, groups in
            let left: [V?] = groups.0.isEmpty ? [nil] : groups.0.map { $0 }
            let right: [W?] = groups.1.isEmpty ? [nil] : groups.1.map { $0 }
            return left.flatMap { v in right.map { w in (key, (v, w)) } }
        }
    }
}
