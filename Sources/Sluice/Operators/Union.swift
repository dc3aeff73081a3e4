extension DStream {
    /// The elements of both streams: the partitions of this stream's batch
    /// followed by those of `other`'s (Spark's `union`). Both streams must
    /// have the same slide duration (checked at `start()`).
    @inlinable
    public func union(_ other: DStream<Element>) -> DStream<Element> {
        derived("union", with: other) { left, right, _ in left.union(right) }
    }
}

extension StreamingContext {
    /// The union of several streams of the same element type, in order.
    @inlinable
    public func union<Element: Sendable>(_ streams: [DStream<Element>]) -> DStream<Element>? {
        guard var result = streams.first else { return nil }
        for stream in streams.dropFirst() {
            result = result.union(stream)
        }
        return result
    }
}
