/// The core's state store: a hash map plus, once an exactly-once output
/// tracks it, the set of keys written since the last commit, so a commit
/// costs what the batch touched, not what the store holds. Without such an
/// output nothing is tracked (the set would only grow).
///
/// A store may be split into shards by key hash (Spark keeps
/// updateStateByKey's state as an RDD hash-partitioned by key, one map per
/// partition): each shard is a map of its own under its own lock, so the
/// owning operator can update the shards in parallel
/// (``updateShards(_:)``), and a shard growing reallocates its part of the
/// table only — blocks a fraction of the size, which the allocator reuses
/// instead of mapping and unmapping one block the size of the whole table.
public final class InMemoryKeyValueStore<Key: Hashable & Sendable, Value: Sendable>: KeyValueStore {
    private struct Storage {
        var values: [Key: Value] = [:]
        /// Keys put or deleted since the last `markCommitted()`.
        var dirty: Set<Key> = []
        /// Whether writes are recorded in `dirty`.
        var tracking = false

        mutating func wrote(_ key: Key) {
            if tracking { dirty.insert(key) }
        }
    }

    private let shards: [Locked<Storage>]
    /// log2 of the number of shards.
    @usableFromInline
    let shardBits: Int

    public convenience init() { self.init(shardCount: 1) }

    /// A store of `shardCount` shards (rounded up to a power of two).
    @usableFromInline
    init(shardCount: Int) {
        var bits = 0
        while 1 << bits < shardCount { bits += 1 }
        shardBits = bits
        shards = (0..<(1 << bits)).map { _ in Locked(Storage()) }
    }

    /// The number of shards.
    @usableFromInline
    var shardCount: Int { 1 << shardBits }

    /// The shard that holds `key`: the top bits of its hash after a
    /// multiplicative mix, so that the shards do not follow the low bits a
    /// shuffle's `hash % partitions` already used to route the key.
    @inlinable @inline(__always)
    func shard(of key: Key) -> Int {
        guard shardBits > 0 else { return 0 }
        return Int((UInt64(UInt(bitPattern: key.hashValue)) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - shardBits))
    }

    public func get(_ key: Key) -> Value? { shards[shard(of: key)].withLock { $0.values[key] } }

    public var count: Int { shards.reduce(0) { total, shard in total + shard.withLock { $0.values.count } } }

    public func entries() -> [(key: Key, value: Value)] {
        var result: [(key: Key, value: Value)] = []
        for shard in shards {
            shard.withLock { storage in
                result.reserveCapacity(result.count + storage.values.count)
                for (key, value) in storage.values { result.append((key: key, value: value)) }
            }
        }
        return result
    }

    public func put(_ key: Key, _ value: Value) {
        shards[shard(of: key)].withLock { storage in
            storage.values[key] = value
            storage.wrote(key)
        }
    }

    public func delete(_ key: Key) {
        shards[shard(of: key)].withLock { storage in
            if storage.values.removeValue(forKey: key) != nil { storage.wrote(key) }
        }
    }

    /// Runs `body` with exclusive access to the map, for bulk updates by the
    /// owning operator; keys it reports as written become part of the delta.
    ///
    /// A store of several shards hands `body` their union and splits the
    /// result back (a copy of every entry): owners of such stores use
    /// ``updateShards(_:)``.
    public func update<R>(_ body: (inout [Key: Value]) throws -> (result: R, written: [Key])) rethrows -> R {
        if shards.count == 1 {
            return try shards[0].withLock { storage in
                let (result, written) = try body(&storage.values)
                if storage.tracking { storage.dirty.formUnion(written) }
                return result
            }
        }
        return try withEveryShard { storages in
            var union: [Key: Value] = [:]
            union.reserveCapacity(storages.reduce(0) { $0 + $1.values.count })
            for storage in storages { union.merge(storage.values) { _, new in new } }
            let (result, written) = try body(&union)
            for index in storages.indices { storages[index].values = [:] }
            for (key, value) in union { storages[shard(of: key)].values[key] = value }
            for key in written where storages[shard(of: key)].tracking { storages[shard(of: key)].dirty.insert(key) }
            return result
        }
    }

    /// Runs `body` for every shard, in parallel, each with exclusive access
    /// to its shard's map; returns the results in shard order. `body` must
    /// only insert keys that belong to the shard it is given
    /// (`shard(of: key) == shard`). Keys it reports as written become part
    /// of the delta.
    @usableFromInline
    func updateShards<R: Sendable>(
        _ body: @escaping @Sendable (_ shard: Int, _ values: inout [Key: Value]) -> (result: R, written: [Key])
    ) async -> [R] {
        let shards = self.shards
        return await Parallel.map(Array(shards.indices)) { index in
            shards[index].withLock { storage in
                let (result, written) = body(index, &storage.values)
                if storage.tracking { storage.dirty.formUnion(written) }
                return result
            }
        }
    }

    /// The changes since the last commit: keys written (with their value now)
    /// and keys removed.
    public func delta() -> StateDelta<Key, Value> {
        var upserts: [(key: Key, value: Value)] = []
        var deletes: [Key] = []
        for shard in shards {
            shard.withLock { storage in
                for key in storage.dirty {
                    if let value = storage.values[key] { upserts.append((key, value)) } else { deletes.append(key) }
                }
            }
        }
        return StateDelta(upserts: upserts, deletes: deletes)
    }

    /// Whether writes are recorded for deltas (an exactly-once output
    /// began tracking): owners need not list the keys they write otherwise.
    @usableFromInline
    var tracksChanges: Bool { shards[0].withLock { $0.tracking } }

    /// Starts recording writes for deltas. With `includeExisting`, every key
    /// held now counts as changed (initial state not yet stored anywhere).
    public func beginChangeTracking(includeExisting: Bool) {
        for shard in shards {
            shard.withLock { storage in
                storage.tracking = true
                storage.dirty = includeExisting ? Set(storage.values.keys) : []
            }
        }
    }

    /// Forgets the tracked changes: they are committed.
    public func markCommitted() {
        for shard in shards { shard.withLock { $0.dirty.removeAll(keepingCapacity: true) } }
    }

    /// Replaces the contents with `entries` (a restored snapshot); nothing is dirty after.
    public func restore(_ entries: [(key: Key, value: Value)]) {
        var parts = [[Key: Value]](repeating: [:], count: shards.count)
        for (key, value) in entries { parts[shard(of: key)][key] = value }
        for (shard, part) in zip(shards, parts) {
            shard.withLock { storage in
                storage.values = part
                storage.dirty.removeAll()
            }
        }
    }

    /// Runs `body` holding every shard's lock (taken in shard order).
    private func withEveryShard<R>(_ body: (inout [Storage]) throws -> R) rethrows -> R {
        var taken: [Storage] = []
        return try lockShards(from: 0, taken: &taken, body)
    }

    private func lockShards<R>(from index: Int, taken: inout [Storage], _ body: (inout [Storage]) throws -> R) rethrows -> R {
        guard index < shards.count else { return try body(&taken) }
        return try shards[index].withLock { storage in
            taken.append(storage)
            storage = Storage()
            defer { storage = taken[index] }
            return try lockShards(from: index + 1, taken: &taken, body)
        }
    }
}

/// Changes to a store since its last commit.
public struct StateDelta<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public var upserts: [(key: Key, value: Value)]
    public var deletes: [Key]

    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }
}
