extension DStream where Element == ByteString {
    /// `(token, occurrences)` for every distinct run of bytes between
    /// `separator`s in the batch's lines: the same result as
    /// `flatMap { $0.tokens(separator:) }.map { ($0, 1) }.reduceByKey(+)`,
    /// computed per partition by a byte-keyed hash table (no String, no
    /// `Hasher` per token), then merged across partitions table by table.
    public func countTokens(separator: UInt8 = UInt8(ascii: " "), partitions: Int? = nil) -> DStream<(ByteString, Int)> {
        let count = partitions ?? defaultParallelism
        return derived("countTokens") { batch, _ in
            let tables = await Parallel.map(batch.partitions) { partition -> TokenCountTable in
                let table = TokenCountTable()
                partition.forEach { line in
                    line.bytes.withUnsafeBytes { table.countTokens(in: $0, separator: separator) }
                }
                return table
            }
            return await TokenCountTable.merged(tables, partitionCount: count)
        }
    }
}
