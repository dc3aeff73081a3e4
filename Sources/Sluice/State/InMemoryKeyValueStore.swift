/// The core's state store: a hash map plus, once an exactly-once output
/// tracks it, the set of keys written since the last commit, so a commit
/// costs what the batch touched, not what the store holds. Without such an
/// output nothing is tracked (the set would only grow).
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

    private let storage = Locked(Storage())

    public init() {}

    public func get(_ key: Key) -> Value? { storage.withLock { $0.values[key] } }

    public var count: Int { storage.withLock { $0.values.count } }

    public func entries() -> [(key: Key, value: Value)] {
        storage.withLock { $0.values.map { (key: $0.key, value: $0.value) } }
    }

    public func put(_ key: Key, _ value: Value) {
        storage.withLock { storage in
            storage.values[key] = value
            storage.wrote(key)
        }
    }

    public func delete(_ key: Key) {
        storage.withLock { storage in
            if storage.values.removeValue(forKey: key) != nil { storage.wrote(key) }
        }
    }

    /// Runs `body` with exclusive access to the map, for bulk updates by the
    /// owning operator; keys it reports as written become part of the delta.
    public func update<R>(_ body: (inout [Key: Value]) throws -> (result: R, written: [Key])) rethrows -> R {
        try storage.withLock { storage in
            let (result, written) = try body(&storage.values)
            if storage.tracking { storage.dirty.formUnion(written) }
            return result
        }
    }

    /// The changes since the last commit: keys written (with their value now)
    /// and keys removed.
    public func delta() -> StateDelta<Key, Value> {
        storage.withLock { storage in
            var upserts: [(key: Key, value: Value)] = []
            var deletes: [Key] = []
            for key in storage.dirty {
                if let value = storage.values[key] { upserts.append((key, value)) } else { deletes.append(key) }
            }
            return StateDelta(upserts: upserts, deletes: deletes)
        }
    }

    /// Starts recording writes for deltas. With `includeExisting`, every key
    /// held now counts as changed (initial state not yet stored anywhere).
    public func beginChangeTracking(includeExisting: Bool) {
        storage.withLock { storage in
            storage.tracking = true
            storage.dirty = includeExisting ? Set(storage.values.keys) : []
        }
    }

    /// Forgets the tracked changes: they are committed.
    public func markCommitted() {
        storage.withLock { $0.dirty.removeAll(keepingCapacity: true) }
    }

    /// Replaces the contents with `entries` (a restored snapshot); nothing is dirty after.
    public func restore(_ entries: [(key: Key, value: Value)]) {
        storage.withLock { storage in
            storage.values = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            storage.dirty.removeAll()
        }
    }
}

/// Changes to a store since its last commit.
public struct StateDelta<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    public var upserts: [(key: Key, value: Value)]
    public var deletes: [Key]

    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }
}
