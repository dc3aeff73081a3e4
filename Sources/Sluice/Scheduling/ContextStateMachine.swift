/// The lifecycle of a `StreamingContext` (STYLE habit 6): a value type kept
/// under a lock; every transition returns what the caller must do after
/// releasing the lock.
///
///     initialized ──start──▶ running ──stop/fail──▶ stopping ──drained──▶ stopped
///          └──────────────────────stop─────────────────────────────────────▲
struct ContextStateMachine {
    enum State {
        case initialized
        case running
        case stopping(graceful: Bool)
        case stopped
    }

    private(set) var state: State = .initialized
    private(set) var failure: StreamingError?
    private var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]

    var isFrozen: Bool {
        if case .initialized = state { return false }
        return true
    }

    var isRunning: Bool {
        if case .running = state { return true }
        return false
    }

    // MARK: start

    enum StartAction {
        case startScheduler
        case throwError(StreamingError)
    }

    mutating func start() -> StartAction {
        switch state {
        case .initialized:
            state = .running
            return .startScheduler
        case .running, .stopping:
            return .throwError(StreamingError(
                code: .alreadyStarted,
                message: "start() was called on a context that is already running; call it once per context"))
        case .stopped:
            return .throwError(StreamingError(
                code: .alreadyStopped,
                message: "a stopped StreamingContext cannot be started again; create a new context and define the streams on it"))
        }
    }

    // MARK: stop

    enum StopAction {
        /// Tell the scheduler to stop (drain or abandon queued batches), then wait.
        case stopScheduler(graceful: Bool)
        /// Already stopping: just wait for termination.
        case waitForTermination
        /// Never started or already stopped: resume these waiters, return.
        case finished(waiters: [CheckedContinuation<Void, any Error>])
    }

    mutating func stop(graceful: Bool) -> StopAction {
        switch state {
        case .initialized:
            state = .stopped
            return .finished(waiters: takeWaiters())
        case .running:
            state = .stopping(graceful: graceful)
            return .stopScheduler(graceful: graceful)
        case .stopping(let wasGraceful):
            if wasGraceful && !graceful {
                state = .stopping(graceful: false)
                return .stopScheduler(graceful: false)
            }
            return .waitForTermination
        case .stopped:
            return .finished(waiters: [])
        }
    }

    /// A batch or source failed: stop without draining, remember the first error.
    mutating func fail(_ error: StreamingError) -> StopAction {
        if failure == nil { failure = error }
        switch state {
        case .running, .stopping(graceful: true):
            state = .stopping(graceful: false)
            return .stopScheduler(graceful: false)
        case .stopping(graceful: false):
            return .waitForTermination
        case .initialized, .stopped:
            return .finished(waiters: [])
        }
    }

    // MARK: termination

    /// The scheduler has finished: every waiter is resumed (with the failure, if any).
    mutating func schedulerTerminated() -> (waiters: [CheckedContinuation<Void, any Error>], failure: StreamingError?) {
        state = .stopped
        return (takeWaiters(), failure)
    }

    enum AwaitAction {
        case suspended
        case resume(failure: StreamingError?)
    }

    mutating func addWaiter(id: Int, _ continuation: CheckedContinuation<Void, any Error>) -> AwaitAction {
        if case .stopped = state {
            return .resume(failure: failure)
        }
        waiters[id] = continuation
        return .suspended
    }

    mutating func removeWaiter(id: Int) -> CheckedContinuation<Void, any Error>? {
        waiters.removeValue(forKey: id)
    }

    private mutating func takeWaiters() -> [CheckedContinuation<Void, any Error>] {
        defer { waiters = [:] }
        return Array(waiters.values)
    }
}
