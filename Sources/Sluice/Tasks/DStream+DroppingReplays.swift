extension DStream {
    /// Drops elements already applied: per `source` (e.g. the upstream
    /// partition a repartition record came from), it keeps the highest
    /// `position` seen and passes an element only when its position is
    /// higher. The positions are state (`name`), kept per task and committed
    /// with the exactly-once output, so a replayed prefix — the same
    /// records written again after a crash between their write and the
    /// commit of their offsets — is applied once.
    ///
    /// Positions of one source must grow in the order the elements arrive
    /// (as records of one upstream partition do, in the order written).
    public func droppingReplays<Source: Hashable & Sendable & Codable, Position: Comparable & Sendable & Codable>(
        name: String,
        source: @escaping @Sendable (Element) -> Source,
        position: @escaping @Sendable (Element) -> Position
    ) -> DStream<Element> {
        let state = KeyedState<Source, Position>(name: name, shards: 1, supportsTasks: true)
        let stream: DStream<Element> = derived("droppingReplays") { batch, _ in
            let store = state.store
            let elements = await batch.materialized().collect()
            let kept: [Element] = store.update { applied in
                var kept: [Element] = []
                var written = Set<Source>()
                for element in elements {
                    let from = source(element)
                    let at = position(element)
                    if let last = applied[from], at <= last { continue }
                    applied[from] = at
                    written.insert(from)
                    kept.append(element)
                }
                return (result: kept, written: Array(written))
            }
            return Batch(kept, partitionCount: 1)
        }
        node.graph.stateRegistry.register(nodeID: stream.node.id, state)
        return stream
    }
}
