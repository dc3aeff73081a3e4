import Foundation

/// A clock that moves only when told to (`advance`). Sleepers wake when the
/// clock reaches their deadline; tests drive a `StreamingContext` with it
/// instead of sleeping (Spark's `ManualClock`).
public final class ManualClock: Clock, @unchecked Sendable {
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock's zero.
        public var offset: Swift.Duration

        public init(offset: Swift.Duration) {
            self.offset = offset
        }

        public func advanced(by duration: Swift.Duration) -> Instant {
            Instant(offset: offset + duration)
        }

        public func duration(to other: Instant) -> Swift.Duration {
            other.offset - offset
        }

        public static func < (lhs: Instant, rhs: Instant) -> Bool {
            lhs.offset < rhs.offset
        }

        public var description: String { "\(offset)" }
    }

    private struct Sleeper {
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let lock = NSLock()
    private var current: Instant
    private var sleepers: [Int: Sleeper] = [:]
    private var nextID = 0

    /// A clock reading `now`. Default: zero.
    public init(now: Instant = Instant(offset: .zero)) {
        current = now
    }

    public var now: Instant {
        lock.withLock { current }
    }

    public var minimumResolution: Swift.Duration { .zero }

    /// Tasks currently sleeping on this clock.
    public var sleeperCount: Int {
        lock.withLock { sleepers.count }
    }

    public func sleep(until deadline: Instant, tolerance: Swift.Duration? = nil) async throws {
        let id = lock.withLock { () -> Int in
            nextID += 1
            return nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = lock.withLock {
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= current { return .success(()) }
                    sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let sleeper = lock.withLock { sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration`, waking every sleeper whose
    /// deadline has been reached.
    public func advance(by duration: Swift.Duration) {
        let woken: [CheckedContinuation<Void, any Error>] = lock.withLock {
            current = current.advanced(by: duration)
            let due = sleepers.filter { $0.value.deadline <= current }
            for id in due.keys { sleepers.removeValue(forKey: id) }
            return due.sorted { $0.value.deadline < $1.value.deadline }.map(\.value.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Moves the clock forward to `instant` (no-op if already past it).
    public func advance(to instant: Instant) {
        let delta = lock.withLock { current.duration(to: instant) }
        if delta > .zero { advance(by: delta) }
    }
}
