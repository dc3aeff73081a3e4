/// An operator's state at the end of one batch, lent out as that batch's
/// output without copying: the partitions read a copy-on-write snapshot of
/// the store's dictionaries (sharing their storage, no bytes per key).
///
/// The store must not write into storage a snapshot still shares (the
/// write would copy the whole dictionary), so before its next batch the
/// operator calls ``release()``: if someone still holds the batch (a
/// window, a user), the snapshot's entries are copied into arrays first
/// and the dictionary is let go; otherwise nothing is copied.
@usableFromInline
final class StoreSnapshot<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// A place in the concatenation of the dictionaries: one of them and an
    /// index in it (its end index only for the end of the last one).
    @usableFromInline
    struct Position: Equatable, Sendable {
        @usableFromInline var dictionary: Int
        @usableFromInline var index: Dictionary<Key, Value>.Index

        @inlinable
        init(dictionary: Int, index: Dictionary<Key, Value>.Index) {
            self.dictionary = dictionary
            self.index = index
        }
    }

    @usableFromInline
    enum Contents: Sendable {
        /// The store's dictionaries (one per shard) and, per partition, its
        /// first position (one more at the end).
        case shared([[Key: Value]], bounds: [Position])
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
    convenience init(_ dictionary: [Key: Value], partitionCount: Int) {
        self.init(shards: [dictionary], partitionCount: partitionCount)
    }

    /// Splits the concatenation of `shards` (at least one) into
    /// `partitionCount` contiguous partitions (fewer when they hold fewer
    /// entries; at least one), in their order. Whole shards are skipped
    /// over; only a shard a partition boundary falls in is walked.
    @inlinable
    init(shards: [[Key: Value]], partitionCount: Int) {
        let total = shards.reduce(0) { $0 + $1.count }
        let n = max(1, min(partitionCount, total))
        var counts: [Int] = []
        var position = Position(dictionary: 0, index: shards[0].startIndex)
        // Entries of the current shard before `position`.
        var passed = 0
        func normalize() {
            while position.index == shards[position.dictionary].endIndex && position.dictionary < shards.count - 1 {
                position = Position(dictionary: position.dictionary + 1, index: shards[position.dictionary + 1].startIndex)
                passed = 0
            }
        }
        normalize()
        var bounds: [Position] = [position]
        for part in 0..<n {
            let size = total * (part + 1) / n - total * part / n
            counts.append(size)
            var needed = size
            while needed > 0 {
                let shard = shards[position.dictionary]
                let left = shard.count - passed
                if needed >= left {
                    position.index = shard.endIndex
                    needed -= left
                    passed = shard.count
                } else {
                    for _ in 0..<needed { shard.formIndex(after: &position.index) }
                    passed += needed
                    needed = 0
                }
                normalize()
            }
            bounds.append(position)
        }
        self.counts = counts
        contents = Locked(.shared(shards, bounds: bounds))
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
        case .shared(let shards, let bounds):
            Self.forEach(in: shards, from: bounds[part], to: bounds[part + 1], body)
        case .copied(let parts):
            for element in parts[part] { body(element) }
        }
    }

    /// Calls `body` for each entry from `start` up to `end`, in order.
    @inlinable
    static func forEach(in shards: [[Key: Value]], from start: Position, to end: Position, _ body: ((Key, Value)) -> Void) {
        var current = start.dictionary
        var index = start.index
        while true {
            let shard = shards[current]
            let stop = current == end.dictionary ? end.index : shard.endIndex
            while index != stop {
                let (key, value) = shard[index]
                body((key, value))
                shard.formIndex(after: &index)
            }
            if current == end.dictionary { return }
            current += 1
            index = shards[current].startIndex
        }
    }

    /// Lets go of the store's dictionaries, copying the entries first.
    @inlinable
    func copyOut() {
        contents.withLock { contents in
            guard case .shared(let shards, let bounds) = contents else { return }
            let parts: [[(Key, Value)]] = counts.indices.map { part in
                var elements: [(Key, Value)] = []
                elements.reserveCapacity(counts[part])
                Self.forEach(in: shards, from: bounds[part], to: bounds[part + 1]) { elements.append($0) }
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
        lend(shards: [dictionary], partitionCount: partitionCount)
    }

    /// Lends the dictionaries of a sharded store (at least one), in shard
    /// order, as a batch of `partitionCount` partitions.
    @inlinable
    func lend(shards: [[Key: Value]], partitionCount: Int) -> Batch<(Key, Value)> {
        let snapshot = StoreSnapshot(shards: shards, partitionCount: partitionCount)
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
