extension DStream {
    /// Applies `transform` to all elements of each partition at once (Spark's
    /// `mapPartitions`): set up once per partition, e.g. a buffer or a
    /// connection. Partitions run in parallel.
    @inlinable
    public func mapPartitions<T: Sendable>(
        _ transform: @escaping @Sendable ([Element]) -> [T]
    ) -> DStream<T> {
        derived("mapPartitions") { batch, _ in batch.mapPartitions(transform) }
    }

    /// Each partition's elements as one array element (Spark's `glom`).
    @inlinable
    public func glom() -> DStream<[Element]> {
        derived("glom") { batch, _ in batch.mapPartitions { [$0] } }
    }
}
