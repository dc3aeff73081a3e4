extension DStream {
    /// Replaces every `(key, value)` by `(key, u)` for each `u` in
    /// `transform(value)` (Spark's `flatMapValues`).
    @inlinable
    public func flatMapValues<K: Sendable, V: Sendable, S: Sequence>(
        _ transform: @escaping @Sendable (V) -> S
    ) -> DStream<(K, S.Element)> where Element == (K, V), S: SendableMetatype, S.Element: Sendable {
        derived("flatMapValues") { batch, _ in
            batch.flatMap { pair in transform(pair.1).lazy.map { (pair.0, $0) } }
        }
    }
}
