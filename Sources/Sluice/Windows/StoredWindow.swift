extension DStream where Element: Codable {
    /// All elements of the batches in the window `(t − length, t]`, every
    /// `slide` (Spark's `window`); see the unconstrained `window(_:slide:)`.
    /// For `Codable` elements the window's batches are kept as operator
    /// state (`window#n`), so an exactly-once output stores them with each
    /// batch and a restart continues the windows that span it.
    public func window(_ length: Duration, slide: Duration? = nil) -> DStream<Element> {
        storedWindow(length, slide: slide, operator: "window")
    }

    /// Each window's elements combined with `combine` (Spark's
    /// `reduceByWindow`); for `Codable` elements the per-batch values of the
    /// window are stored state (`reduceByWindow#n`), restored on restart.
    public func reduceByWindow(
        _ combine: @escaping @Sendable (Element, Element) -> Element,
        _ length: Duration, slide: Duration? = nil
    ) -> DStream<Element> {
        reduce(combine).storedWindow(length, slide: slide, operator: "reduceByWindow").reduce(combine)
    }

    /// A window whose batches are a ``KeyedState`` (batch time in ms → the
    /// batch's partitions), named `operator#n`. A batch is taken in at the
    /// window that first needs it, or, under an exactly-once output, at its
    /// own batch time (so a commit between two windows stores it), and
    /// dropped at the first window it is no longer in.
    func storedWindow(_ length: Duration, slide: Duration?, operator: String) -> DStream<Element> {
        let parent = self
        let windowSlide = slide ?? slideDuration
        let parentSlide = slideDuration
        let registry = node.graph.stateRegistry
        let state = KeyedState<Int64, [[Element]]>(name: registry.nextName(kind: `operator`))
        let recordedThrough = Locked<Time?>(nil)
        let record: @Sendable (Time) async throws -> Void = { time in
            let from = recordedThrough.withLock { $0.map { max($0, time - length) } ?? time - length }
            guard from < time else { return }
            var entering: [(Int64, [[Element]])] = []
            for (batchTime, batch) in try await parent.timedBatches(in: from, time) {
                entering.append((batchTime.milliseconds, await batch.materialized().partitions.map { $0.collect() }))
            }
            state.store.update { stored in
                for (batchTime, partitions) in entering { stored[batchTime] = partitions }
                recordedThrough.withLock { $0 = time }
                return (result: (), written: entering.map(\.0))
            }
        }
        let stream = DStream(
            name: `operator`, graph: node.graph, slideDuration: windowSlide, parents: [node],
            // Each window reads the parent's batches since the previous one.
            parentRememberExtra: max(.zero, windowSlide - batchInterval),
            validate: { _ in windowValidation(length: length, slide: windowSlide, parentSlide: parentSlide) }
        ) { time in
            try await record(time)
            let start = (time - length).milliseconds
            let partitions: [Partition<Element>] = state.store.update { stored in
                let leaving = stored.keys.filter { $0 <= start }
                for batchTime in leaving { stored.removeValue(forKey: batchTime) }
                let inside = stored.filter { $0.key <= time.milliseconds }.sorted { $0.key < $1.key }
                return (result: inside.flatMap { $0.value.map { Partition($0) } }, written: leaving)
            }
            return Batch(partitions: partitions.isEmpty ? [Partition([])] : partitions)
        }
        registry.register(nodeID: stream.node.id, state, advance: windowSlide > parentSlide ? record : nil)
        return stream
    }
}

extension DStream {
    /// `(key, values)` over each window, values in time order (Spark's
    /// `groupByKeyAndWindow`); for `Codable` keys and values the window's
    /// batches are stored state (`groupByKeyAndWindow#n`), restored on restart.
    public func groupByKeyAndWindow<K: Hashable & Sendable & Codable, V: Sendable & Codable>(
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil
    ) -> DStream<(K, [V])> where Element == (K, V) {
        map { WindowedPair(key: $0.0, value: $0.1) }
            .storedWindow(length, slide: slide, operator: "groupByKeyAndWindow")
            .map { ($0.key, $0.value) }
            .groupByKey(partitions: partitions)
    }
}

/// A key and a value, `Codable` where a tuple cannot be (a stored window of pairs).
struct WindowedPair<K: Sendable & Codable, V: Sendable & Codable>: Sendable, Codable {
    var key: K
    var value: V
}
