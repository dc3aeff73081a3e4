/// A value from the left or the right stream of a cogroup.
@usableFromInline
enum CogroupValue<V: Sendable, W: Sendable>: Sendable {
    case left(V)
    case right(W)
}

/// The values of one key on both sides of a cogroup.
@usableFromInline
struct CogroupBuffers<V: Sendable, W: Sendable>: Sendable {
    @usableFromInline var left: [V] = []
    @usableFromInline var right: [W] = []

    @inlinable
    init(_ value: CogroupValue<V, W>) {
        add(value)
    }

    @inlinable
    mutating func add(_ value: CogroupValue<V, W>) {
        switch value {
        case .left(let v): left.append(v)
        case .right(let w): right.append(w)
        }
    }

    @inlinable
    mutating func merge(_ other: CogroupBuffers<V, W>) {
        left += other.left
        right += other.right
    }
}

extension Batch {
    /// Spark's `cogroup` of two keyed batches: for every key on either side,
    /// the values of each side in batch order.
    @inlinable
    func cogroup<K: Hashable & Sendable, V: Sendable, W: Sendable>(
        _ other: Batch<(K, W)>, partitionCount: Int
    ) async -> Batch<(K, ([V], [W]))> where Element == (K, V) {
        let tagged: Batch<(K, CogroupValue<V, W>)> =
            map { ($0.0, CogroupValue<V, W>.left($0.1)) }
            .union(other.map { ($0.0, CogroupValue<V, W>.right($0.1)) })
        // In place: a copy of the buffers per value would be quadratic in a key's values.
        let grouped = await tagged.combineByKeyInPlace(
            createCombiner: { CogroupBuffers($0) },
            mergeValue: { $0.add($1) },
            mergeCombiners: { $0.merge($1) },
            partitionCount: partitionCount)
        return grouped.map { ($0.0, ($0.1.left, $0.1.right)) }
    }
}

extension DStream {
    /// For every key in either stream's batch: `(key, (valuesHere, valuesThere))`
    /// (Spark's `cogroup`). A key on one side only gets an empty array for the other.
    @inlinable
    public func cogroup<K: Hashable & Sendable, V: Sendable, W: Sendable>(
        _ other: DStream<(K, W)>, partitions: Int? = nil
    ) -> DStream<(K, ([V], [W]))> where Element == (K, V) {
        let count = partitions ?? defaultParallelism
        return derived("cogroup", with: other) { left, right, _ in
            await left.cogroup(right, partitionCount: count)
        }
    }
}
