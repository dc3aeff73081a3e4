extension DStream where Element == ByteString {
    /// `(token, occurrences)` for every distinct run of bytes between
    /// `separator`s in the batch's lines: the same result as
    /// `flatMap { $0.tokens(separator:) }.map { ($0, 1) }.reduceByKey(+)`,
    /// computed by byte-keyed hash tables (no String, no `Hasher` per token),
    /// one per thread that counts (not one per partition, so their memory
    /// grows with the cores, not the partitions), then merged table by table.
    public func countTokens(separator: UInt8 = UInt8(ascii: " "), partitions: Int? = nil) -> DStream<(ByteString, Int)> {
        let count = partitions ?? defaultParallelism
        // Piecewise: a partition still being read is counted as its pieces
        // arrive, below the read's priority (PiecewiseExecutor).
        return derived("countTokens", pieces: .consumesPieces) { batch, _ in
            let executor: PiecewiseExecutor? = batch.isArriving ? .shared : nil
            let tables = PerThreadTokenTables()
            _ = try await Parallel.mapThrowing(batch.partitions, on: executor) { partition in
                try await partition.forEachPiece { piece in
                    let table = tables.current()
                    piece.forEach { line in
                        line.bytes.withUnsafeBytes { table.countTokens(in: $0, separator: separator) }
                    }
                }
            }
            return await TokenCountTable.merged(tables.tables, partitionCount: count)
        }
    }
}
