extension DStream {
    /// Replaces every element by the elements of the sequence `transform`
    /// returns (Spark's `flatMap`).
    @inlinable
    public func flatMap<S: Sequence>(
        _ transform: @escaping @Sendable (Element) -> S
    ) -> DStream<S.Element> where S: SendableMetatype, S.Element: Sendable {
        derived("flatMap", pieces: .passesPieces) { batch, _ in batch.flatMap(transform) }
    }
}
