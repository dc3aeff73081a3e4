extension DStream where Element == ByteString {
    /// `(token, occurrences)` for every distinct run of bytes between
    /// `separator`s in the batch's lines: the same result as
    /// `flatMap { $0.tokens(separator:) }.map { ($0, 1) }.reduceByKey(+)`,
    /// computed per partition by a byte-keyed hash table (no String, no
    /// `Hasher` per token), then merged across partitions table by table.
    public func countTokens(separator: UInt8 = UInt8(ascii: " "), partitions: Int? = nil) -> DStream<(ByteString, Int)> {
        let count = partitions ?? defaultParallelism
        // Piecewise: a partition still being read is counted as its pieces
        // arrive, below the read's priority (PiecewiseExecutor).
        return derived("countTokens", pieces: .consumesPieces) { batch, _ in
            let executor: PiecewiseExecutor? = batch.isArriving ? .shared : nil
            let tables = try await Parallel.mapThrowing(batch.partitions, on: executor) { partition -> TokenCountTable in
                let table = TokenCountTable()
                try await partition.forEachPiece { piece in
                    piece.forEach { line in
                        line.bytes.withUnsafeBytes { table.countTokens(in: $0, separator: separator) }
                    }
                }
                return table
            }
            return await TokenCountTable.merged(tables, partitionCount: count)
        }
    }
}
