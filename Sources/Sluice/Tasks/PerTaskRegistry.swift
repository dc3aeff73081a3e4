/// The per-task values (``PerTask``) operators of one graph keep besides
/// their states, so that a task's are dropped with its ownership.
@usableFromInline
final class PerTaskRegistry: Sendable {
    private let droppers = Locked<[@Sendable (TaskKey) -> Void]>([])

    @usableFromInline
    init() {}

    /// A per-task value registered for dropping.
    @usableFromInline
    func make<Value: Sendable>(_ make: @escaping @Sendable () -> Value) -> PerTask<Value> {
        let values = PerTask(make)
        droppers.withLock { $0.append { [weak values] key in values?.drop(key) } }
        return values
    }

    func drop(_ key: TaskKey) {
        for drop in droppers.withLock({ $0 }) { drop(key) }
    }
}
