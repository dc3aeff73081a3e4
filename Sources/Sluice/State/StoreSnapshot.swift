/// An operator's state at the end of one batch, lent out as that batch's
/// output without copying: the partitions read a copy-on-write snapshot of
/// the store's dictionary (sharing its storage, no bytes per key).
///
/// The store must not write into storage a snapshot still shares (the
/// write would copy the whole dictionary), so before its next batch the
/// operator calls ``release()``: if someone still holds the batch (a
/// window, a user), the snapshot's entries are copied into arrays first
/// and the dictionary is let go; otherwise nothing is copied.
@usableFromInline
final class StoreSnapshot<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline
    enum Contents: Sendable {
        /// The dictionary and, per partition, its first index (one more at the end).
        case shared([Key: Value], bounds: [Dictionary<Key, Value>.Index])
        case copied([[(Key, Value)]])
    }

    @usableFromInline
    let contents: Locked<Contents>
    /// Elements per partition.
    @usableFromInline
    let counts: [Int]

    /// Splits `dictionary` into `partitionCount` contiguous partitions
    /// (fewer when it holds fewer entries; at least one), in its order.
    @inlinable
    init(_ dictionary: [Key: Value], partitionCount: Int) {
        let total = dictionary.count
        let n = max(1, min(partitionCount, total))
        var counts: [Int] = []
        var bounds: [Dictionary<Key, Value>.Index] = [dictionary.startIndex]
        var index = dictionary.startIndex
        for part in 0..<n {
            let size = total * (part + 1) / n - total * part / n
            counts.append(size)
            for _ in 0..<size { dictionary.formIndex(after: &index) }
            bounds.append(index)
        }
        self.counts = counts
        contents = Locked(.shared(dictionary, bounds: bounds))
    }

    /// The snapshot as a batch of lazy partitions.
    @inlinable
    func batch() -> Batch<(Key, Value)> {
        Batch(partitions: counts.indices.map { part in
            Partition(count: counts[part]) { body in self.forEach(part, body) }
        })
    }

    /// The snapshot as a batch of lazy partitions of `transform`ed entries
    /// (e.g. a state without its bookkeeping), computed as they are read.
    @inlinable
    func batch<T: Sendable>(_ transform: @escaping @Sendable ((Key, Value)) -> T) -> Batch<T> {
        Batch(partitions: counts.indices.map { part in
            Partition(count: counts[part]) { body in self.forEach(part) { body(transform($0)) } }
        })
    }

    /// Calls `body` for each entry of partition `part`, in order.
    @inlinable
    func forEach(_ part: Int, _ body: ((Key, Value)) -> Void) {
        // Iterate outside the lock: partitions are read in parallel.
        switch contents.value {
        case .shared(let dictionary, let bounds):
            var index = bounds[part]
            while index != bounds[part + 1] {
                let (key, value) = dictionary[index]
                body((key, value))
                dictionary.formIndex(after: &index)
            }
        case .copied(let parts):
            for element in parts[part] { body(element) }
        }
    }

    /// Lets go of the store's dictionary, copying the entries first.
    @inlinable
    func copyOut() {
        contents.withLock { contents in
            guard case .shared(let dictionary, let bounds) = contents else { return }
            let parts: [[(Key, Value)]] = counts.indices.map { part in
                var elements: [(Key, Value)] = []
                elements.reserveCapacity(counts[part])
                var index = bounds[part]
                while index != bounds[part + 1] {
                    let (key, value) = dictionary[index]
                    elements.append((key, value))
                    dictionary.formIndex(after: &index)
                }
                return elements
            }
            contents = .copied(parts)
        }
    }
}

/// The snapshot an operator lent out last, released before its store is
/// written again.
@usableFromInline
final class LentSnapshot<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    @usableFromInline
    let current = Locked<StoreSnapshot<Key, Value>?>(nil)

    @inlinable
    init() {}

    /// Lends `dictionary` as a batch of `partitionCount` partitions.
    @inlinable
    func lend(_ dictionary: [Key: Value], partitionCount: Int) -> Batch<(Key, Value)> {
        let snapshot = StoreSnapshot(dictionary, partitionCount: partitionCount)
        current.withLock { $0 = snapshot }
        return snapshot.batch()
    }

    /// Lends `dictionary` as a batch of `partitionCount` partitions of
    /// `transform`ed entries.
    @inlinable
    func lend<T: Sendable>(
        _ dictionary: [Key: Value], partitionCount: Int, _ transform: @escaping @Sendable ((Key, Value)) -> T
    ) -> Batch<T> {
        let snapshot = StoreSnapshot(dictionary, partitionCount: partitionCount)
        current.withLock { $0 = snapshot }
        return snapshot.batch(transform)
    }

    /// Call before writing the store: afterwards no snapshot shares its
    /// storage. A snapshot nobody else holds is dropped; one still held
    /// (its batch remembered for a window, or kept by user code) copies its
    /// entries out first. Returns whether it had to copy.
    @discardableResult
    @inlinable
    func release() -> Bool {
        guard var snapshot = current.withLock({ current -> StoreSnapshot<Key, Value>? in
            defer { current = nil }
            return current
        }) else { return false }
        if isKnownUniquelyReferenced(&snapshot) { return false }
        snapshot.copyOut()
        return true
    }
}
