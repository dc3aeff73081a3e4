import Foundation
import Logging

/// The entry point of a streaming job (Spark's `StreamingContext`): define
/// inputs, operators and output operations, then `start()`; batches run
/// every `batchInterval` until `stop(graceful:)` or a failure.
///
/// ```swift
/// let ssc = try StreamingContext(batchInterval: .seconds(1))
/// let lines = ssc.socketTextStream(host: "localhost", port: 9999)
/// try lines.flatMap { $0.split(separator: " ") }.map { (String($0), 1) }.reduceByKey(+).print()
/// try ssc.start()
/// try await ssc.awaitTermination()
/// ```
///
/// A batch that throws (in an output or an input) stops the context without
/// running later batches; `awaitTermination()` then rethrows its error.
public final class StreamingContext: Sendable {
    /// The public face of the lifecycle (Spark's `StreamingContextState`).
    public enum State: Sendable, Hashable {
        case initialized
        case active
        case stopped
    }

    public let batchInterval: Duration
    public let configuration: StreamingConfiguration

    let graph: StreamGraph
    let clock: BatchClock
    let listeners = ListenerBus()
    let lifecycle = Locked(ContextStateMachine())
    let scheduler = Locked<Scheduler?>(nil)
    let waiterIDs = Locked(0)

    /// A context on the system's continuous clock; batch times are Unix
    /// epoch milliseconds, aligned to multiples of the interval.
    ///
    /// - Throws: `StreamingError.invalidDuration` when the interval is not a
    ///   positive whole number of milliseconds.
    public convenience init(batchInterval: Duration, configuration: StreamingConfiguration = .init()) throws {
        let epochMilliseconds = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        try self.init(
            batchInterval: batchInterval, clock: ContinuousClock(),
            origin: Time(milliseconds: epochMilliseconds), configuration: configuration)
    }

    /// A context driven by `clock` (a manual clock in tests). The clock's
    /// reading now is batch time `origin`; the first batch runs at the first
    /// multiple of the interval after the time `start()` is called.
    public init<C: Clock>(
        batchInterval: Duration,
        clock: C,
        origin: Time = Time(milliseconds: 0),
        configuration: StreamingConfiguration = .init()
    ) throws where C.Duration == Duration {
        guard batchInterval > .zero, batchInterval.wholeMilliseconds >= 1 else {
            throw StreamingError(
                code: .invalidDuration,
                message: "batch interval \(batchInterval) is not positive; use at least .milliseconds(10), e.g. StreamingContext(batchInterval: .seconds(1))")
        }
        guard batchInterval.isWholeMilliseconds else {
            throw StreamingError(
                code: .invalidDuration,
                message: "batch interval \(batchInterval) is not a whole number of milliseconds; round it to milliseconds")
        }
        self.batchInterval = batchInterval
        self.configuration = configuration
        self.clock = BatchClock(clock, origin: origin)
        self.graph = StreamGraph(
            batchInterval: batchInterval, defaultParallelism: configuration.defaultParallelism,
            printSink: configuration.printSink, logger: configuration.logger,
            processesWhileReading: configuration.processesWhileReading)
    }

    /// The context's default number of partitions for shuffles.
    public var defaultParallelism: Int { graph.defaultParallelism }

    public var state: State {
        lifecycle.withLock { machine in
            switch machine.state {
            case .initialized: return .initialized
            case .running, .stopping: return .active
            case .stopped: return .stopped
            }
        }
    }

    /// Adds a listener; it sees batches submitted from now on.
    public func addListener(_ listener: any StreamingListener) {
        listeners.add(listener)
    }

    /// The input stream of `source` (e.g. the Kafka direct stream). Must be
    /// called before `start()`; a stream created later never runs and adding
    /// an output to it throws.
    public func inputStream<Source: InputSource>(_ source: Source) -> DStream<Source.Element> {
        graph.inputStream(source)
    }

}

extension StreamGraph {
    /// Registers `source` as an input; returns its stream.
    func inputStream<Source: InputSource>(_ source: Source) -> DStream<Source.Element> {
        let graph = self
        return graph.addInput { id in
            // The batch is read once for the whole job; a task's batch is
            // that batch's partitions of the task.
            let memo = BatchMemo<Source.Element>()
            let stream = DStream<Source.Element>(
                name: source.name, graph: graph, slideDuration: batchInterval, parents: [], inputID: id, memo: memo
            ) { time in
                guard let task = TaskScope.current, let whole = memo.get(time, task: nil) else { return nil }
                return whole.restricted(to: task.task)
            }
            let input = RegisteredInput(
                id: id, name: source.name, node: stream.node,
                start: { try await source.start($0) },
                plan: { context in
                    let plan = try await source.plan(context)
                    return PlannedInput(
                        inputID: id, offsetRanges: plan.offsetRanges, partitionLag: plan.partitionLag,
                        read: {
                            var batch = try await source.read(plan)
                            if batch.isArriving && graph.readsOnce(id) {
                                let tasks = batch.tasks
                                batch = Batch(partitions: batch.partitions.map { $0.releasingPiecesOnceRead() })
                                batch.tasks = tasks
                            }
                            memo.set(context.batchTime, task: nil, batch)
                            if let count = plan.recordCount { return count }
                            // Arriving partitions are not waited for here.
                            return batch.isArriving ? batch.knownCount : batch.count()
                        })
                },
                stop: { await source.stop() },
                supportsReplay: source.supportsReplay,
                resume: { source.resume(from: $0) },
                partitionsAreTasks: source.partitionsAreTasks,
                setTaskHooks: { source.setTaskHooks($0) },
                isInternal: source.isInternal)
            return (input, stream)
        }
    }
}

extension DStream {
    /// A new input stream of this stream's context, for operators that
    /// create inputs of their own (a repartition through Kafka reads the
    /// topic it writes). Must be called before the context starts.
    public func makeInputStream<Source: InputSource>(_ source: Source) -> DStream<Source.Element> {
        node.graph.inputStream(source)
    }
}
