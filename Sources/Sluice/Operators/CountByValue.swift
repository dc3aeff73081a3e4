extension DStream where Element: Hashable {
    /// `(value, occurrences)` for every distinct value of the batch (Spark's
    /// `countByValue`), hash-partitioned.
    @inlinable
    public func countByValue(partitions: Int? = nil) -> DStream<(Element, Int)> {
        map { ($0, 1) }.reduceByKey(+, partitions: partitions)
    }
}
