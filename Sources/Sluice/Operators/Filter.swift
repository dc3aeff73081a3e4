extension DStream {
    /// Keeps the elements for which `isIncluded` returns true (Spark's `filter`).
    @inlinable
    public func filter(_ isIncluded: @escaping @Sendable (Element) -> Bool) -> DStream<Element> {
        derived("filter", pieces: .passesPieces) { batch, _ in batch.filter(isIncluded) }
    }
}
