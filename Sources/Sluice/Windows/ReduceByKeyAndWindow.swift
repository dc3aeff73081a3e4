import DequeModule

/// A key's part of an incremental window: its value over the window and the
/// per-batch partial values still inside it (so that they can be subtracted
/// when they leave, even after a restart).
public struct WindowPartials<V: Sendable & Codable>: Sendable, Codable {
    /// The key's value over the window.
    public var total: V?
    /// Partial value per batch time (ms) of the batches in the window.
    public var partials: [Int64: V]

    @inlinable
    init(total: V?, partials: [Int64: V]) {
        self.total = total
        self.partials = partials
    }
}

extension DStream {
    /// `(key, combined values)` over each window, computed incrementally
    /// (Spark's `reduceByKeyAndWindow` with `invReduceFunc`): each key's
    /// previous value, `inverse`d with the per-batch values that left the
    /// window and `combine`d with those that entered. `filter` (optional)
    /// drops keys after each window, e.g. `{ $0.1 != 0 }` for counts that
    /// went back to zero; without it such keys stay (as in Spark).
    ///
    /// Cost per window: the batches entering and leaving, plus the output.
    /// The per-key window values and per-batch partials are a
    /// ``KeyedState`` (`name`, default `reduceByKeyAndWindow#n`), committed
    /// and restored by an exactly-once output, so a window spanning a
    /// restart still subtracts what entered before it.
    @inlinable
    public func reduceByKeyAndWindow<K: Hashable & Sendable & Codable, V: Sendable & Codable>(
        _ combine: @escaping @Sendable (V, V) -> V,
        inverse: @escaping @Sendable (V, V) -> V,
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil,
        filter: (@Sendable ((K, V)) -> Bool)? = nil,
        name: String? = nil
    ) -> DStream<(K, V)> where Element == (K, V) {
        incrementalWindow(combine, inverse: inverse, length, slide: slide, partitions: partitions, filter: filter, name: name)
    }

    /// `(key, combined values)` over each window (Spark's
    /// `reduceByKeyAndWindow` without an inverse, e.g. for max or min).
    /// Each batch is reduced by key; a key's window value is recombined from
    /// its per-batch partials when one of them leaves, so a window costs the
    /// keys that changed times the window's length in batches, plus the
    /// output. State-backed like the inverse variant.
    @inlinable
    public func reduceByKeyAndWindow<K: Hashable & Sendable & Codable, V: Sendable & Codable>(
        _ combine: @escaping @Sendable (V, V) -> V,
        _ length: Duration, slide: Duration? = nil, partitions: Int? = nil,
        name: String? = nil
    ) -> DStream<(K, V)> where Element == (K, V) {
        incrementalWindow(combine, inverse: nil, length, slide: slide, partitions: partitions, filter: nil, name: name)
    }

    // Inlinable, like the shuffle (`Batch+Shuffle.swift`), so that the
    // window's body is specialised for the caller's key and value types
    // instead of going through generic metadata for every key.
    @inlinable
    func incrementalWindow<K: Hashable & Sendable & Codable, V: Sendable & Codable>(
        _ combine: @escaping @Sendable (V, V) -> V,
        inverse: (@Sendable (V, V) -> V)?,
        _ length: Duration, slide: Duration?, partitions: Int?,
        filter: (@Sendable ((K, V)) -> Bool)?,
        name: String?
    ) -> DStream<(K, V)> where Element == (K, V) {
        let buckets = max(1, partitions ?? defaultParallelism)
        // Per-batch partial results: each key at most once per batch.
        let reduced = reduceByKey(combine, partitions: buckets)
        let windowSlide = slide ?? slideDuration
        let parentSlide = reduced.slideDuration
        let registry = node.graph.stateRegistry
        let state = KeyedState<K, WindowPartials<V>>(name: name ?? registry.nextName(kind: "reduceByKeyAndWindow"))
        let index = Locked(PartialsIndex<K>())
        let progress = Locked(WindowProgress<K>())
        // Takes in the reduced batches up to `time` not taken in yet (at most
        // one slide back): at each window, and under an exactly-once output
        // at every batch, so that a commit between two windows holds the
        // batches its offsets cover.
        let absorb: @Sendable (Time) async throws -> Void = { time in
            let from = progress.withLock { $0.absorbedThrough.map { max($0, time - windowSlide) } ?? time - windowSlide }
            guard from < time else { return }
            let entering = try await reduced.timedBatches(in: from, time)
            state.store.update { stored in
                var written: [K] = []
                index.withLock { index in
                    if !index.isBuilt { index.rebuild(from: stored) }
                    for (batchTime, batch) in entering {
                        var keys: [K] = []
                        for partition in batch.partitions {
                            partition.forEach { key, value in
                                var entry = stored[key] ?? WindowPartials(total: nil, partials: [:])
                                entry.partials[batchTime.milliseconds] = value
                                entry.total = entry.total.map { combine($0, value) } ?? value
                                stored[key] = entry
                                keys.append(key)
                            }
                        }
                        index.append(batchTime.milliseconds, keys)
                        written.append(contentsOf: keys)
                    }
                }
                progress.withLock { progress in
                    progress.absorbedThrough = time
                    progress.changed.formUnion(written)
                }
                return (result: (), written: written)
            }
        }
        let stream = DStream<(K, V)>(
            name: "reduceByKeyAndWindow", graph: node.graph, slideDuration: windowSlide, parents: [reduced.node],
            // Each window reads the reduced batches since the previous one.
            parentRememberExtra: max(.zero, windowSlide - batchInterval),
            validate: { _ in windowValidation(length: length, slide: windowSlide, parentSlide: parentSlide) }
        ) { time in
            try await absorb(time)
            let output: [(K, V)] = state.store.update { stored in
                // Keys that took in a batch since the last window, and below
                // those whose batches leave.
                var written = progress.withLock { progress in
                    defer { progress.changed = [] }
                    return progress.changed
                }
                index.withLock { index in
                    if !index.isBuilt { index.rebuild(from: stored) }
                    // Batches at or before t − length leave the window.
                    for (batchTime, keys) in index.pop(through: (time - length).milliseconds) {
                        for key in keys {
                            guard var entry = stored[key], let value = entry.partials.removeValue(forKey: batchTime) else { continue }
                            if let inverse {
                                entry.total = entry.total.map { inverse($0, value) }
                            } else {
                                // Recombine what is left, oldest first.
                                entry.total = entry.partials.sorted { $0.key < $1.key }.map(\.value).reduce(nil) { total, next in
                                    total.map { combine($0, next) } ?? next
                                }
                            }
                            stored[key] = inverse == nil && entry.partials.isEmpty ? nil : entry
                            written.insert(key)
                        }
                    }
                }
                if let filter {
                    for key in written {
                        if let total = stored[key]?.total, !filter((key, total)) { stored[key] = nil }
                    }
                }
                let output = stored.compactMap { key, entry in entry.total.map { (key, $0) } }
                return (result: output, written: Array(written))
            }
            return Batch(output, partitionCount: buckets)
        }
        registry.register(nodeID: stream.node.id, state, advance: windowSlide > parentSlide ? absorb : nil)
        return stream
    }
}

/// How far an incremental window has taken in its parent's batches, and
/// the keys that changed since its last window (for the filter).
@usableFromInline
struct WindowProgress<K: Hashable & Sendable>: Sendable {
    @usableFromInline
    var absorbedThrough: Time?
    @usableFromInline
    var changed: Set<K> = []

    @inlinable
    init() {}
}

/// Keys by the batch time of their partial values, oldest first, so that
/// the partials leaving a window are found without scanning every key.
@usableFromInline
struct PartialsIndex<K: Hashable & Sendable>: Sendable {
    @usableFromInline
    var entries: Deque<(time: Int64, keys: [K])> = []
    @usableFromInline
    var isBuilt = false

    @inlinable
    init() {}

    /// Indexes every stored partial (after a restore or at the first window).
    @inlinable
    mutating func rebuild<V>(from stored: [K: WindowPartials<V>]) {
        var byTime: [Int64: [K]] = [:]
        for (key, entry) in stored {
            for time in entry.partials.keys { byTime[time, default: []].append(key) }
        }
        entries = Deque(byTime.sorted { $0.key < $1.key }.map { (time: $0.key, keys: $0.value) })
        isBuilt = true
    }

    @inlinable
    mutating func append(_ time: Int64, _ keys: [K]) {
        guard !keys.isEmpty else { return }
        entries.append((time, keys))
    }

    /// Removes and returns the entries with time ≤ `limit`.
    @inlinable
    mutating func pop(through limit: Int64) -> [(Int64, [K])] {
        var popped: [(Int64, [K])] = []
        while let first = entries.first, first.time <= limit {
            popped.append((first.time, first.keys))
            entries.removeFirst()
        }
        return popped
    }
}
