extension DStream {
    /// One element per non-empty batch: all elements combined with `combine`,
    /// which must be associative and commutative (Spark's `reduce`). Empty
    /// batches give an empty result. Partitions are reduced in parallel and
    /// their results combined in partition order.
    @inlinable
    public func reduce(_ combine: @escaping @Sendable (Element, Element) -> Element) -> DStream<Element> {
        derived("reduce") { batch, _ in
            let partials = await Parallel.map(batch.partitions) { partition -> Element? in
                var accumulated: Element?
                partition.forEach { element in
                    accumulated = accumulated.map { combine($0, element) } ?? element
                }
                return accumulated
            }
            var result: Element?
            for case let partial? in partials {
                result = result.map { combine($0, partial) } ?? partial
            }
            return Batch(result.map { [$0] } ?? [])
        }
    }
}
