extension DStream {
    /// Applies `transform` to every element (Spark's `map`). Narrow: runs
    /// per partition, fused with neighbouring narrow operators.
    @inlinable
    public func map<T: Sendable>(_ transform: @escaping @Sendable (Element) -> T) -> DStream<T> {
        derived("map", pieces: .passesPieces) { batch, _ in batch.map(transform) }
    }
}
