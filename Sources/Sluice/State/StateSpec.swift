/// What `mapWithState` does (Spark's `StateSpec`): the function called for
/// every record — `(key, value, &state) -> mapped?` — plus optional initial
/// state, idle timeout, partitions and a stable name for stored state.
///
/// ```swift
/// let spec = StateSpec.function { (word: String, one: Int?, state: inout MapState<Int>) -> (String, Int)? in
///     let total = (state.get() ?? 0) + (one ?? 0)
///     state.update(total)
///     return (word, total)
/// }.timeout(.seconds(60))
/// ```
public struct StateSpec<Key: Hashable & Sendable & Codable, Value: Sendable, S: Sendable & Codable, Mapped: Sendable>: Sendable {
    public typealias Function = @Sendable (_ key: Key, _ value: Value?, _ state: inout MapState<S>) -> Mapped?

    let function: Function
    var initialState: [Key: S] = [:]
    var idleTimeout: Duration?
    var partitions: Int?
    var name: String?

    /// A spec calling `function` once per record, in batch order; `value` is
    /// nil only for the call of a key that is timing out.
    public static func function(_ function: @escaping Function) -> StateSpec {
        StateSpec(function: function)
    }

    /// State before the first batch (ignored when state is recovered).
    public func initialState(_ state: [Key: S]) -> StateSpec {
        var copy = self
        copy.initialState = state
        return copy
    }

    /// Keys without records for longer than `duration` get one last call
    /// with `isTimingOut == true` at the first batch after it, then are removed.
    public func timeout(_ duration: Duration) -> StateSpec {
        var copy = self
        copy.idleTimeout = duration
        return copy
    }

    /// Partitions of the output. Default: the context's default parallelism.
    public func partitions(_ count: Int) -> StateSpec {
        var copy = self
        copy.partitions = count
        return copy
    }

    /// A stable name for the stored state. Default: `mapWithState#n`.
    public func name(_ name: String) -> StateSpec {
        var copy = self
        copy.name = name
        return copy
    }
}
