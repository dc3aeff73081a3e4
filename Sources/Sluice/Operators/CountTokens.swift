extension DStream where Element == ByteString {
    /// `(token, occurrences)` for every distinct run of bytes between
    /// `separator`s in the batch's lines: the same result as
    /// `flatMap { $0.tokens(separator:) }.map { ($0, 1) }.reduceByKey(+)`,
    /// computed per partition by a byte-keyed hash table (no String, no
    /// `Hasher` per token), then merged across partitions.
    public func countTokens(separator: UInt8 = UInt8(ascii: " "), partitions: Int? = nil) -> DStream<(ByteString, Int)> {
        let count = partitions ?? defaultParallelism
        return derived("countTokens") { batch, _ in
            let counted = await Parallel.map(batch.partitions) { partition -> Partition<(ByteString, Int)> in
                let table = TokenCountTable()
                partition.forEach { line in
                    line.bytes.withUnsafeBytes { table.countTokens(in: $0, separator: separator) }
                }
                return Partition(table.entries())
            }
            return await Batch(partitions: counted).mergedTokenCounts(partitionCount: count)
        }
    }
}

extension Batch where Element == (ByteString, Int) {
    /// Partial token counts merged into one count per token, hash-partitioned
    /// into `partitionCount` partitions.
    func mergedTokenCounts(partitionCount: Int) async -> Batch<(ByteString, Int)> {
        await combineByKey(
            createCombiner: { $0 }, mergeValue: { $0 + $1 }, mergeCombiners: { $0 + $1 },
            partitionCount: partitionCount)
    }
}
