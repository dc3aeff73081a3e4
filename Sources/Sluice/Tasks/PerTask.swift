/// One value per task (``TaskScope/current``; nil is the whole job), made on
/// first use and dropped with the task's ownership.
@usableFromInline
final class PerTask<Value: Sendable>: Sendable {
    private let values = Locked<[TaskKey?: Value]>([:])
    private let make: @Sendable () -> Value

    @usableFromInline
    init(_ make: @escaping @Sendable () -> Value) {
        self.make = make
    }

    /// The value of the current task.
    @usableFromInline
    var current: Value { value(for: TaskScope.current) }

    func value(for key: TaskKey?) -> Value {
        values.withLock { values in
            if let value = values[key] { return value }
            let value = make()
            values[key] = value
            return value
        }
    }

    /// The values made so far, by task.
    var all: [TaskKey?: Value] { values.withLock { $0 } }

    /// Forgets the task's value.
    func drop(_ key: TaskKey) {
        _ = values.withLock { $0.removeValue(forKey: key) }
    }
}
