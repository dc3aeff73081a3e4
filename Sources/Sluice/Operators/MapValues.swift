extension DStream {
    /// Applies `transform` to the value of every `(key, value)` pair (Spark's `mapValues`).
    @inlinable
    public func mapValues<K: Sendable, V: Sendable, U: Sendable>(
        _ transform: @escaping @Sendable (V) -> U
    ) -> DStream<(K, U)> where Element == (K, V) {
        derived("mapValues") { batch, _ in batch.map { ($0.0, transform($0.1)) } }
    }
}
