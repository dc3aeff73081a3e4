extension DStream {
    /// Replaces each batch by `transform(batch)` (Spark's `transform`): any
    /// batch → batch function, e.g. a join with a fixed batch.
    @inlinable
    public func transform<T: Sendable>(
        _ transform: @escaping @Sendable (Batch<Element>) async throws -> Batch<T>
    ) -> DStream<T> {
        derived("transform") { batch, _ in try await transform(batch) }
    }

    /// Like `transform`, with the batch time.
    @inlinable
    public func transformWithTime<T: Sendable>(
        _ transform: @escaping @Sendable (Batch<Element>, Time) async throws -> Batch<T>
    ) -> DStream<T> {
        derived("transform") { batch, time in try await transform(batch, time) }
    }

    /// Combines each batch with `other`'s batch of the same time (Spark's
    /// `transformWith`).
    @inlinable
    public func transform<Other: Sendable, T: Sendable>(
        with other: DStream<Other>,
        _ transform: @escaping @Sendable (Batch<Element>, Batch<Other>, Time) async throws -> Batch<T>
    ) -> DStream<T> {
        derived("transformWith", with: other, transform)
    }
}
