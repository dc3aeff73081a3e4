/// A discretized stream: one `Batch<Element>` per batch time (Spark's
/// `DStream`). Built from a `StreamingContext` input and operators; does
/// nothing until an output operation is attached and the context starts.
///
/// Each stream knows its slide duration, its parents and how to compute its
/// batch for a time; computed batches are remembered as long as a
/// downstream stream (a window) may ask for them again.
public final class DStream<Element: Sendable>: Sendable {
    @usableFromInline
    let node: StreamNode
    let memo: BatchMemo<Element>
    private let compute: @Sendable (Time) async throws -> Batch<Element>?

    @usableFromInline
    init(
        name: String,
        graph: StreamGraph,
        slideDuration: Duration,
        parents: [StreamNode],
        inputID: Int? = nil,
        pieceUse: PieceUse = .whole,
        parentRememberExtra: Duration = .zero,
        validate: (@Sendable (Duration) -> String?)? = nil,
        memo: BatchMemo<Element> = BatchMemo<Element>(),
        compute: @escaping @Sendable (Time) async throws -> Batch<Element>?
    ) {
        self.memo = memo
        self.compute = compute
        self.node = StreamNode(
            name: name, slideDuration: slideDuration, parents: parents, graph: graph,
            inputID: inputID, pieceUse: pieceUse, parentRememberExtra: parentRememberExtra, validate: validate,
            forgetThrough: { memo.forget(through: $0) })
    }

    /// The interval at which this stream produces batches.
    public var slideDuration: Duration { node.slideDuration }

    /// The context's batch interval.
    public var batchInterval: Duration { node.graph.batchInterval }

    /// The context's default number of partitions for shuffles.
    public var defaultParallelism: Int { node.graph.defaultParallelism }

    /// The batch for `time`: remembered, or computed now; nil when the stream
    /// has no batch at that time (before the start, or off its slide grid).
    /// Its input records have all arrived: it throws when they cannot be read.
    public func batch(at time: Time) async throws -> Batch<Element>? {
        guard let batch = try await arrivingBatch(at: time) else { return nil }
        guard batch.isArriving else { return batch }
        let arrived = try await batch.arrived()
        memo.set(time, arrived)
        return arrived
    }

    /// The batch for `time`, whose input partitions may still be arriving
    /// (for the operators that work piece by piece).
    @usableFromInline
    func arrivingBatch(at time: Time) async throws -> Batch<Element>? {
        guard node.isTimeValid(time) else { return nil }
        if let remembered = memo.get(time) { return remembered }
        guard let computed = try await compute(time) else { return nil }
        memo.set(time, computed)
        return computed
    }

    /// A stream with the same slide whose batch is `body` applied to this
    /// stream's batch (the building block of one-parent operators). With a
    /// `pieces` use other than `.whole`, `body` may get partitions still
    /// arriving and must pass them on through narrow operators
    /// (`.passesPieces`) or read each piece once with `forEachPiece`
    /// (`.consumesPieces`); otherwise its batch has arrived.
    @inlinable
    func derived<T: Sendable>(
        _ name: String,
        pieces: PieceUse = .whole,
        _ body: @escaping @Sendable (Batch<Element>, Time) async throws -> Batch<T>
    ) -> DStream<T> {
        let parent = self
        return DStream<T>(
            name: name, graph: node.graph, slideDuration: slideDuration, parents: [node], pieceUse: pieces
        ) { time in
            let batch = pieces != .whole && parent.node.graph.processesWhileReading
                ? try await parent.arrivingBatch(at: time) : try await parent.batch(at: time)
            guard let batch else { return nil }
            return try await body(batch, time)
        }
    }

    /// A stream whose batch combines this stream's and `other`'s batches for
    /// the same time (the building block of two-parent operators). A side
    /// without a batch at that time counts as empty.
    @inlinable
    func derived<Other: Sendable, T: Sendable>(
        _ name: String,
        with other: DStream<Other>,
        _ body: @escaping @Sendable (Batch<Element>, Batch<Other>, Time) async throws -> Batch<T>
    ) -> DStream<T> {
        let left = self
        return DStream<T>(
            name: name, graph: node.graph, slideDuration: slideDuration, parents: [node, other.node]
        ) { time in
            let leftBatch = try await left.batch(at: time) ?? .empty
            let rightBatch = try await other.batch(at: time) ?? .empty
            return try await body(leftBatch, rightBatch, time)
        }
    }
}
