extension DStream {
    /// Computes each batch once, in parallel, and keeps the result, so that
    /// several outputs (or a window) reading this stream do not recompute
    /// the operators before it (Spark's `cache`/`persist`).
    @inlinable
    public func persist() -> DStream<Element> {
        derived("persist") { batch, _ in await batch.materialized() }
    }
}
