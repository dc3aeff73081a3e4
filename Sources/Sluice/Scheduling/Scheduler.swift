import CoreMetrics
import Logging

/// Runs a started context: the generator task plans a batch at every
/// `t0 + k·interval` and queues it; the executor task runs queued batches
/// strictly in order, one at a time (Spark's JobGenerator / JobScheduler).
final class Scheduler: Sendable {
    let graph: StreamGraph
    let clock: BatchClock
    let listeners: ListenerBus
    let rateControllers: [Int: RateController]
    let planRecorder: (any BatchPlanRecorder)?
    let undecodable: [Int: UndecodableRecordCounter]
    let contextID: ObjectIdentifier
    let queue = PendingBatches()
    let onFailure: @Sendable (StreamingError) -> Void
    let onTerminated: @Sendable () -> Void

    private let tasks = Locked<(generator: Task<Void, Never>?, executor: Task<Void, Never>?)>((nil, nil))

    init(
        graph: StreamGraph,
        clock: BatchClock,
        listeners: ListenerBus,
        rateControllers: [Int: RateController],
        planRecorder: (any BatchPlanRecorder)?,
        metricsFactory: (any MetricsFactory)?,
        contextID: ObjectIdentifier,
        onFailure: @escaping @Sendable (StreamingError) -> Void,
        onTerminated: @escaping @Sendable () -> Void
    ) {
        self.graph = graph
        self.clock = clock
        self.listeners = listeners
        self.rateControllers = rateControllers
        self.planRecorder = planRecorder
        self.contextID = contextID
        self.onFailure = onFailure
        self.onTerminated = onTerminated
        var counters: [Int: UndecodableRecordCounter] = [:]
        for input in graph.inputs {
            counters[input.id] = UndecodableRecordCounter(input: input.name, factory: metricsFactory)
        }
        self.undecodable = counters
    }

    /// Starts the generator and the executor; the first batch runs at `startTime`.
    func start(startTime: Time) {
        tasks.withLock { tasks in
            tasks.generator = Task { await self.generate(from: startTime) }
            tasks.executor = Task { await self.execute() }
        }
    }

    /// Stops generating. Graceful: queued batches still run; otherwise they
    /// are dropped and only the batch in progress completes. Returns at once;
    /// `onTerminated` is called when the executor has finished.
    func stop(graceful: Bool) {
        let generator = tasks.withLock { $0.generator }
        generator?.cancel()
        if graceful {
            // Let a plan in progress reach the queue before closing it.
            Task {
                await generator?.value
                self.queue.finish(abandonQueued: false)
            }
        } else {
            queue.finish(abandonQueued: true)
        }
    }

    var generatorTask: Task<Void, Never>? { tasks.withLock { $0.generator } }
}

/// Set while a batch's output operations run, so that `stop()` called from
/// inside an output does not wait for its own batch.
enum ExecutingBatch {
    @TaskLocal static var contextID: ObjectIdentifier?
}
