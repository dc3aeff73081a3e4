/// How an operator reads its parent's input partitions still arriving.
@usableFromInline
enum PieceUse: Sendable {
    /// Waits until they have arrived (most operators).
    case whole
    /// Passes the pieces on, transformed (map, filter, flatMap).
    case passesPieces
    /// Reads each piece once as it comes and keeps nothing of it (countTokens).
    case consumesPieces
}

/// The type-erased part of a `DStream`: its place in the graph, its slide
/// duration and how long its computed batches must be remembered (Spark's
/// `DStream` metadata: `slideDuration`, `dependencies`, `rememberDuration`).
@usableFromInline
final class StreamNode: Sendable {
    @usableFromInline
    let id: Int
    let name: String
    let slideDuration: Duration
    let parents: [StreamNode]
    @usableFromInline
    let graph: StreamGraph
    /// For input streams, the input's id in the graph.
    let inputID: Int?
    /// How this stream reads its parent's arriving partitions.
    let pieceUse: PieceUse
    /// How much more history than its own remember duration this stream
    /// needs its parents to keep: for a stream whose batch at time t reads
    /// its parent's batches in (t − d, t], d − the batch interval (its next
    /// batch is at least one interval later); zero for a stream that reads
    /// its parent's batch of the same time.
    let parentRememberExtra: Duration
    /// Drops remembered batches with time ≤ the given time.
    let forgetThrough: @Sendable (Time) -> Void
    /// Checks the stream's own settings against the batch interval at
    /// `start()` (e.g. a window length); returns the message of the error.
    let validate: (@Sendable (_ batchInterval: Duration) -> String?)?

    /// Nil until the graph is frozen and outputs set it (zero at least).
    private let remember = Locked<Duration?>(nil)

    init(
        name: String,
        slideDuration: Duration,
        parents: [StreamNode],
        graph: StreamGraph,
        inputID: Int? = nil,
        pieceUse: PieceUse = .whole,
        parentRememberExtra: Duration = .zero,
        validate: (@Sendable (Duration) -> String?)? = nil,
        forgetThrough: @escaping @Sendable (Time) -> Void
    ) {
        self.pieceUse = pieceUse
        self.id = graph.nextNodeID()
        self.name = name
        self.slideDuration = slideDuration
        self.parents = parents
        self.graph = graph
        self.inputID = inputID
        self.parentRememberExtra = parentRememberExtra
        self.forgetThrough = forgetThrough
        self.validate = validate
    }

    /// How long computed batches of this stream are kept after the batch
    /// that ran last: batches with time ≤ that batch's time − this duration
    /// are dropped. Zero for a stream only outputs read: its batch is
    /// dropped as soon as the outputs of its time ran.
    var rememberDuration: Duration { remember.value ?? .zero }

    /// Ensures batches are kept for at least `duration`, and tells the parents
    /// what they must keep in turn: this stream's need plus what computing
    /// one of its batches reads further back (Spark's `DStream.remember`).
    func remember(atLeast duration: Duration) {
        let updated = remember.withLock { current -> Duration? in
            if let current, duration <= current { return nil }
            current = duration
            return duration
        }
        guard let updated else { return }
        for parent in parents {
            parent.remember(atLeast: updated + parentRememberExtra)
        }
    }

    /// Whether a batch exists for `time`: from this run's first batch on,
    /// on the slide grid `zero time + k·slide` (the zero time of the job's
    /// first run when an exactly-once output restored it).
    func isTimeValid(_ time: Time) -> Bool {
        graph.timeline?.isValid(time, slide: slideDuration) ?? false
    }

    /// This node and all its ancestors, each once.
    func lineage() -> [StreamNode] {
        var seen: Set<Int> = []
        var result: [StreamNode] = []
        var stack: [StreamNode] = [self]
        while let node = stack.popLast() {
            guard seen.insert(node.id).inserted else { continue }
            result.append(node)
            stack.append(contentsOf: node.parents)
        }
        return result
    }
}
