extension DStream {
    /// Runs `body` for every batch, after the batch's earlier output
    /// operations (Spark's `foreachRDD`). It receives the batch (partitions
    /// already computed, in parallel), its time, and the offset ranges of the
    /// inputs this stream reads (Spark's `HasOffsetRanges`, without casts).
    /// Throwing stops the context; `awaitTermination()` rethrows the error.
    ///
    /// - Throws: `graphFrozen` after `start()`.
    public func foreachBatch(
        _ body: @escaping @Sendable (_ batch: Batch<Element>, _ time: Time, _ offsetRanges: [OffsetRange]) async throws -> Void
    ) throws {
        try foreachBatchOutput(name: "foreachBatch") { batch, time, ranges in
            try await body(batch, time, ranges)
        }
    }

    /// Registers an output operation that receives each computed batch.
    func foreachBatchOutput(
        name: String,
        _ body: @escaping @Sendable (Batch<Element>, Time, [OffsetRange]) async throws -> Void
    ) throws {
        try node.graph.addOutput(name: name, node: node) { [self] time, ranges in
            guard let batch = try await self.batch(at: time) else { return }
            try await body(await batch.materialized(), time, ranges)
        }
    }
}
