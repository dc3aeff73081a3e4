/// The read-only face of a state store (Kafka Streams' `ReadOnlyKeyValueStore`):
/// what user code and queries may look at.
public protocol ReadOnlyKeyValueStore<Key, Value>: Sendable {
    associatedtype Key: Hashable & Sendable
    associatedtype Value: Sendable

    /// The value of `key`, or nil.
    func get(_ key: Key) -> Value?
    /// Number of keys held.
    var count: Int { get }
    /// Every entry, in no particular order.
    func entries() -> [(key: Key, value: Value)]
}

/// The writable face of a state store (Kafka Streams' `KeyValueStore`): the
/// operator that owns the state writes through it; every write is tracked
/// so the changes since the last commit can be exported as a delta.
public protocol KeyValueStore<Key, Value>: ReadOnlyKeyValueStore {
    /// Sets `key` to `value`.
    func put(_ key: Key, _ value: Value)
    /// Removes `key` (no-op when absent).
    func delete(_ key: Key)
}
