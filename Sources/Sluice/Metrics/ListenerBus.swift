/// Delivers batch events to the registered listeners, in registration order.
final class ListenerBus: Sendable {
    private let listeners = Locked<[any StreamingListener]>([])

    func add(_ listener: any StreamingListener) {
        listeners.withLock { $0.append(listener) }
    }

    func post(_ event: (any StreamingListener) -> Void) {
        for listener in listeners.value {
            event(listener)
        }
    }
}
