/// The state of one key as `mapWithState`'s function sees it (Spark's
/// `State`): read it, update it, remove it. While the key is timing out
/// (`isTimingOut`), `update` and `remove` are ignored: the key is removed
/// after the call.
public struct MapState<S: Sendable>: Sendable {
    @usableFromInline var value: S?
    @usableFromInline var updated = false
    @usableFromInline var removed = false
    public let isTimingOut: Bool

    @usableFromInline
    init(_ value: S?, isTimingOut: Bool) {
        self.value = value
        self.isTimingOut = isTimingOut
    }

    /// Whether the key has state.
    @inlinable
    public var exists: Bool { value != nil }

    /// The key's state, or nil.
    @inlinable
    public func get() -> S? { value }

    /// Sets the key's state (ignored while timing out).
    @inlinable
    public mutating func update(_ newValue: S) {
        guard !isTimingOut else { return }
        value = newValue
        updated = true
        removed = false
    }

    /// Removes the key's state (ignored while timing out: it goes anyway).
    @inlinable
    public mutating func remove() {
        guard !isTimingOut else { return }
        value = nil
        removed = true
        updated = false
    }
}

/// How `mapWithState` keeps a key: its state and the batch time it was last
/// touched (for idle timeouts). Codable, so it is stored with the state.
public struct TimestampedState<S: Sendable & Codable>: Sendable, Codable {
    public var state: S
    /// Batch time (ms) of the last batch with a record for the key.
    public var updated: Int64
}
