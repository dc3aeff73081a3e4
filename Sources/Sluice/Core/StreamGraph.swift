import Logging

/// The streams, inputs and output operations of one context (Spark's
/// `DStreamGraph`). Open for additions until the context starts, frozen after.
@usableFromInline
final class StreamGraph: Sendable {
    let batchInterval: Duration
    let defaultParallelism: Int
    let printSink: any TextSink
    let logger: Logger
    /// `StreamingConfiguration.processesWhileReading`.
    @usableFromInline
    let processesWhileReading: Bool
    /// The stateful operators' states, for the exactly-once layer.
    @usableFromInline
    let stateRegistry = StateRegistry()
    /// Records that failed a transform, per batch, for the exactly-once layer.
    let deadLetters = DeadLetterLedger()
    /// What operators keep per task besides their states.
    @usableFromInline
    let perTaskValues = PerTaskRegistry()
    /// The tasks this process owns of the job, once its exactly-once output
    /// is split into tasks.
    var taskOwnership: TaskOwnership? { ownership.value }
    private let ownership = Locked<TaskOwnership?>(nil)
    private let taskedInputs = Locked<Set<Int>>([])

    func setTaskOwnership(_ ownership: TaskOwnership) { self.ownership.withLock { $0 = ownership } }

    /// Makes an input's partitions tasks (it feeds a ``DStream/foreachTaskBatch(name:_:)`` output).
    func markTasked(inputID: Int?) {
        guard let inputID else { return }
        taskedInputs.withLock { _ = $0.insert(inputID) }
    }

    /// Whether the input's partitions are tasks: its source says so, or it
    /// feeds a task output.
    func partitionsAreTasks(_ input: RegisteredInput) -> Bool {
        input.partitionsAreTasks || taskedInputs.withLock { $0.contains(input.id) }
    }

    private struct State {
        var frozen = false
        /// Fixed by `freeze`: the grid origin and this run's first batch.
        var timeline: Timeline?
        /// The grid origin an exactly-once output recovered, used by `freeze`.
        var recoveredGrid: RecoveredBatchGrid?
        var nextNodeID = 0
        var nextInputID = 0
        var inputs: [RegisteredInput] = []
        var outputs: [OutputOperation] = []
        /// Fixed by `freeze`: see `readsOnce(_:)`.
        var inputsReadOnce: Set<Int> = []
    }

    private let state = Locked(State())

    init(batchInterval: Duration, defaultParallelism: Int, printSink: any TextSink, logger: Logger, processesWhileReading: Bool = true) {
        self.processesWhileReading = processesWhileReading
        self.batchInterval = batchInterval
        self.defaultParallelism = defaultParallelism
        self.printSink = printSink
        self.logger = logger
    }

    func nextNodeID() -> Int {
        state.withLock { state in
            defer { state.nextNodeID += 1 }
            return state.nextNodeID
        }
    }

    /// The origin of every slide grid (Spark's `zeroTime`); nil before start.
    var zeroTime: Time? { state.withLock { $0.timeline?.zeroTime } }
    /// The grid origin and the first batch time of this run; nil before start.
    var timeline: Timeline? { state.withLock { $0.timeline } }
    var inputs: [RegisteredInput] { state.withLock { $0.inputs } }
    var outputs: [OutputOperation] { state.withLock { $0.outputs } }
    var inputCount: Int { state.withLock { $0.inputs.count } }

    /// Registers the input made by `make` from its id; returns `make`'s stream.
    func addInput<Stream>(_ make: (Int) -> (RegisteredInput, Stream)) -> Stream {
        let id = state.withLock { state -> Int in
            defer { state.nextInputID += 1 }
            return state.nextInputID
        }
        let (input, stream) = make(id)
        state.withLock { state in
            // After start the input stays unregistered: its stream never runs,
            // and attaching an output to it throws `graphFrozen`.
            if !state.frozen { state.inputs.append(input) }
        }
        return stream
    }

    /// Registers an output operation on `node`; `alsoReading` are further
    /// streams the same output computes (an exactly-once output writing
    /// several tables), whose inputs' offset ranges it also receives.
    func addOutput(
        name: String,
        node: StreamNode,
        alsoReading: [StreamNode] = [],
        run: @escaping @Sendable (Time, [OffsetRange]) async throws -> Void
    ) throws {
        guard ([node] + alsoReading).allSatisfy({ $0.graph === self }) else {
            throw StreamingError(
                code: .foreignStream,
                message: "\(name) was attached to a stream of another StreamingContext; build every stream of a job from the same context")
        }
        try state.withLock { state in
            guard !state.frozen else {
                throw StreamingError(
                    code: .graphFrozen,
                    message: "\(name) was added after the StreamingContext started; define every stream and output operation before calling start()")
            }
            let roots = [node] + alsoReading
            let inputIDs = Set(roots.flatMap { $0.lineage() }.compactMap(\.inputID))
            state.outputs.append(OutputOperation(
                index: state.outputs.count, name: name, node: node, roots: roots, inputIDs: inputIDs, run: run))
        }
    }

    /// Makes the batch grid of an earlier run of the job the grid of this
    /// one (an exactly-once output recovered it from its store), so that
    /// windows sliding by more than one batch keep their times across a
    /// restart (Spark restores `zeroTime` from its checkpoint likewise).
    func restoreGrid(_ grid: RecoveredBatchGrid) throws {
        try state.withLock { state in
            guard !state.frozen else {
                throw StreamingError(
                    code: .graphFrozen,
                    message: "an exactly-once output was added after the StreamingContext started; define every stream and output operation before calling start()")
            }
            state.recoveredGrid = grid
        }
    }

    /// Checks the graph, fixes the zero time and remember durations, and
    /// refuses further additions. Returns the first batch time: the first
    /// time on the batch grid after `now`. The grid is `zero + k·interval`,
    /// with the zero of a recovered grid (see `restoreGrid`), else one
    /// interval before the first multiple of the interval after `now`.
    @discardableResult
    func freeze(now: Time) throws -> Time {
        let outputs = self.outputs
        guard !outputs.isEmpty else {
            throw StreamingError(
                code: .noOutputOperations,
                message: "no output operation is registered, so no batch would ever run; add print(), foreachBatch or saveAsTextFiles before start()")
        }
        for output in outputs {
            for node in output.roots.flatMap({ $0.lineage() }) {
                for parent in node.parents where parent.graph !== self {
                    throw StreamingError(
                        code: .foreignStream,
                        message: "\(node.name) combines streams of two StreamingContexts; build every stream of a job from the same context")
                }
                if node.parents.count > 1, let mismatch = node.parents.first(where: { $0.slideDuration != node.slideDuration }) {
                    throw StreamingError(
                        code: .invalidDuration,
                        message: "\(node.name) combines streams with different slide durations (\(mismatch.name): \(mismatch.slideDuration), expected \(node.slideDuration)); window both sides with the same slide first")
                }
                if let message = node.validate?(batchInterval) {
                    throw StreamingError(code: .invalidDuration, message: message)
                }
                let slide = node.slideDuration.wholeMilliseconds
                let interval = batchInterval.wholeMilliseconds
                if slide <= 0 || slide % interval != 0 {
                    throw StreamingError(
                        code: .invalidDuration,
                        message: "\(node.name) has slide duration \(node.slideDuration), which is not a positive multiple of the batch interval \(batchInterval)")
                }
            }
        }
        let readOnce = processesWhileReading ? Self.inputsReadOnce(by: outputs) : []
        let (timeline, recovered) = state.withLock { state -> (Timeline, RecoveredBatchGrid?) in
            state.inputsReadOnce = readOnce
            let origin = state.recoveredGrid?.zeroTime ?? Time(milliseconds: 0)
            let start = BatchGrid.firstTime(after: now, origin: origin, step: batchInterval)
            let timeline = Timeline(zeroTime: state.recoveredGrid?.zeroTime ?? start - batchInterval, startTime: start)
            state.frozen = true
            state.timeline = timeline
            return (timeline, state.recoveredGrid)
        }
        if let recovered {
            recovered.logResumption(startTime: timeline.startTime, batchInterval: batchInterval, logger: logger)
        }
        // An output's stream is read only by outputs of the same batch time,
        // which have all run when its batch is forgotten; its parents keep
        // what the stream's later batches read (Spark keeps one slide more).
        for output in outputs {
            for root in output.roots { root.remember(atLeast: .zero) }
        }
        return timeline.startTime
    }

    /// Forgets, in every stream, batches no longer needed after `time` ran.
    func forgetOldBatches(after time: Time) {
        var seen: Set<Int> = []
        for output in outputs {
            for node in output.roots.flatMap({ $0.lineage() }) where seen.insert(node.id).inserted {
                node.forgetThrough(time - node.rememberDuration)
            }
        }
        for input in inputs where seen.insert(input.node.id).inserted {
            input.node.forgetThrough(time - input.node.rememberDuration)
        }
    }

    /// Drops outputs and inputs so that streams and their closures are freed.
    func clear() {
        state.withLock { state in
            state.outputs = []
            state.inputs = []
        }
    }
}

extension StreamGraph {
    /// Whether input `inputID`'s arriving partitions are read by one reader
    /// that reads each piece once, so their pieces can be released as read.
    func readsOnce(_ inputID: Int) -> Bool {
        state.withLock { $0.inputsReadOnce.contains(inputID) }
    }

    /// The inputs whose only consumer is a chain of operators that pass
    /// pieces on, each the only consumer of the one before, ending in one
    /// that reads each piece once (e.g. input → map → countTokens): nothing
    /// else — no other operator, output or window — reads their batches.
    static func inputsReadOnce(by outputs: [OutputOperation]) -> Set<Int> {
        var nodes: [Int: StreamNode] = [:]
        var consumerCount: [Int: Int] = [:]
        var consumer: [Int: StreamNode] = [:]
        for output in outputs {
            for root in output.roots {
                consumerCount[root.id, default: 0] += 1
                for node in root.lineage() { nodes[node.id] = node }
            }
        }
        for node in nodes.values {
            for parent in node.parents {
                consumerCount[parent.id, default: 0] += 1
                consumer[parent.id] = node
            }
        }
        var readOnce: Set<Int> = []
        for node in nodes.values {
            guard let inputID = node.inputID else { continue }
            var current = node
            while consumerCount[current.id] == 1, let next = consumer[current.id] {
                if next.pieceUse == .consumesPieces {
                    readOnce.insert(inputID)
                    break
                }
                guard next.pieceUse == .passesPieces else { break }
                current = next
            }
        }
        return readOnce
    }
}

/// One registered output operation; runs once per batch, in declaration order.
struct OutputOperation: Sendable {
    let index: Int
    let name: String
    let node: StreamNode
    /// `node` and any further streams the output computes.
    let roots: [StreamNode]
    /// The inputs this output's stream reads from (for its offset ranges).
    let inputIDs: Set<Int>
    let run: @Sendable (Time, [OffsetRange]) async throws -> Void
}
