import Foundation
import Sluice
import SluiceTesting

/// A one-shot gate: `wait()` suspends until `open()`; used to hold a batch
/// inside an output operation while the test moves the clock.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = lock.withLock {
                if !isOpen { waiters.append(continuation) }
                return isOpen
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let pending = lock.withLock {
            isOpen = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter.resume() }
    }
}

/// Counts events and lets a test wait (bounded) until a count is reached.
final class EventCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var waiters: [(Int, CheckedContinuation<Void, Never>)] = []

    func increment() {
        let ready = lock.withLock {
            count += 1
            let ready = waiters.filter { $0.0 <= count }.map(\.1)
            waiters.removeAll { $0.0 <= count }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    var value: Int { lock.withLock { count } }

    /// Waits until the count reaches `target` or `timeout` passes; returns whether it did.
    @discardableResult
    func wait(for target: Int, timeout: Duration = .seconds(10)) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let reached = self.lock.withLock {
                        if self.count >= target { return true }
                        self.waiters.append((target, continuation))
                        return false
                    }
                    if reached { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            if !first { self.releaseAll() }
            return first
        }
    }

    private func releaseAll() {
        let all = lock.withLock {
            defer { waiters = [] }
            return waiters.map(\.1)
        }
        for waiter in all { waiter.resume() }
    }
}

/// Records batch events, for listener assertions.
final class RecordingListener: StreamingListener, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    private var infos: [BatchInfo] = []
    let submitted = EventCounter()

    func batchSubmitted(_ info: BatchInfo) {
        lock.withLock { events.append("submitted \(info.batchTime.milliseconds)") }
        submitted.increment()
    }

    func batchStarted(_ info: BatchInfo) {
        lock.withLock { events.append("started \(info.batchTime.milliseconds)") }
    }

    func batchCompleted(_ info: BatchInfo) {
        lock.withLock {
            events.append("completed \(info.batchTime.milliseconds)")
            infos.append(info)
        }
    }

    var log: [String] { lock.withLock { events } }
    var completed: [BatchInfo] { lock.withLock { infos } }
}
