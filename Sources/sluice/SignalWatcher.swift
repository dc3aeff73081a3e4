import Dispatch
import Foundation
import Logging
import Sluice
import Synchronization

/// Turns SIGINT and SIGTERM into a flag a loop can check and a wait a
/// command can block on, so commands stop cleanly instead of dying.
///
/// `@unchecked`: the signal sources are set once in `init` and never
/// mutated; the flag is behind a lock.
final class SignalWatcher: @unchecked Sendable {
    private let flag = StopFlag()
    private let sources: [DispatchSourceSignal]

    init() {
        let queue = DispatchQueue(label: "sluice.signals")
        let flag = self.flag
        var made: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { flag.stop() }
            source.resume()
            made.append(source)
        }
        sources = made
    }

    /// Whether a signal arrived (or ``stop()`` was called).
    var isStopped: Bool { flag.isStopped }

    /// Marks the watcher stopped and wakes ``wait()``.
    func stop() { flag.stop() }

    /// Blocks until a signal arrives.
    func wait() { flag.wait() }
}

private final class StopFlag: Sendable {
    private let stopped = Mutex(false)
    private let semaphore = DispatchSemaphore(value: 0)

    var isStopped: Bool { stopped.withLock { $0 } }

    func stop() {
        let first = stopped.withLock { value -> Bool in
            defer { value = true }
            return !value
        }
        if first { semaphore.signal() }
    }

    func wait() { semaphore.wait() }
}

extension StreamingContext {
    /// Waits until the context terminates; SIGINT or SIGTERM (watched by
    /// `signals`, made before anything else so an early signal is not lost)
    /// stops it gracefully first (the batches already planned still run).
    func awaitTerminationOrSignal(_ signals: SignalWatcher, logger: Logger) async throws {
        let stopper = Task.detached { [self] in
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    signals.wait()
                    continuation.resume()
                }
            }
            logger.info("stopping: finishing the batches already planned")
            await self.stop(graceful: true)
        }
        defer { stopper.cancel() }
        try await awaitTermination()
    }
}
