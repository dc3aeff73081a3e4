extension DStream {
    /// Spreads each batch evenly over `partitions` partitions (Spark's
    /// `repartition`), to raise or lower parallelism. Element `j` of input
    /// partition `p` goes to partition `(p + j) mod partitions`.
    @inlinable
    public func repartition(_ partitions: Int) -> DStream<Element> {
        let count = max(1, partitions)
        return derived("repartition") { batch, _ in
            let inputs = await batch.materialized().partitions.map { $0.collect() }
            var outputs = [[Element]](repeating: [], count: count)
            for (p, elements) in inputs.enumerated() {
                for (j, element) in elements.enumerated() {
                    outputs[(p + j) % count].append(element)
                }
            }
            return Batch(partitions: outputs.map { Partition($0) })
        }
    }
}
