extension DStream {
    /// One element per batch: the number of elements (0 for an empty batch),
    /// as in Spark's `count`.
    @inlinable
    public func count() -> DStream<Int> {
        derived("count") { batch, _ in
            let counts = await Parallel.map(batch.partitions) { partition in
                var count = 0
                partition.forEach { _ in count += 1 }
                return count
            }
            return Batch([counts.reduce(0, +)])
        }
    }
}
