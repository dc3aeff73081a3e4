import Foundation

/// A value guarded by a lock. The core's one synchronisation primitive for
/// small critical sections (no `await` inside).
@usableFromInline
final class Locked<State>: @unchecked Sendable {
    private let lock = NSLock()
    private var state: State

    @usableFromInline
    init(_ state: State) {
        self.state = state
    }

    @usableFromInline
    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    @usableFromInline
    var value: State {
        withLock { $0 }
    }
}
