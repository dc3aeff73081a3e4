/// Batches prepared in advance (or pushed while running) for `queueStream`:
/// for tests and examples. Thread-safe.
public final class BatchQueue<Element: Sendable>: Sendable {
    private let items = Locked<[[Element]]>([])

    public init(_ batches: [[Element]] = []) {
        items.withLock { $0 = batches }
    }

    /// Appends a batch's elements.
    public func push(_ batch: [Element]) {
        items.withLock { $0.append(batch) }
    }

    /// Batches not yet taken by a stream.
    public var count: Int { items.value.count }

    func take(all: Bool) -> [[Element]] {
        items.withLock { queue in
            guard !queue.isEmpty else { return [] }
            if all {
                defer { queue.removeAll() }
                return queue
            }
            return [queue.removeFirst()]
        }
    }
}

/// The source behind `queueStream`: each batch takes the next queued batch
/// (or all of them), else the default batch, else nothing.
final class QueueSource<Element: Sendable>: InputSource {
    struct Plan: InputPlan {
        let elements: [Element]
        let partitions: Int
    }

    let name = "queue"
    let queue: BatchQueue<Element>
    let oneAtATime: Bool
    let defaultBatch: [Element]?
    let partitions: Int?

    init(queue: BatchQueue<Element>, oneAtATime: Bool, defaultBatch: [Element]?, partitions: Int?) {
        self.queue = queue
        self.oneAtATime = oneAtATime
        self.defaultBatch = defaultBatch
        self.partitions = partitions
    }

    func start(_ context: SourceContext) async throws {}

    func plan(_ context: PlanningContext) async throws -> Plan {
        let taken = queue.take(all: !oneAtATime)
        let elements = taken.isEmpty ? (defaultBatch ?? []) : taken.flatMap { $0 }
        return Plan(elements: elements, partitions: partitions ?? context.defaultParallelism)
    }

    func read(_ plan: Plan) async throws -> Batch<Element> {
        Batch(plan.elements, partitionCount: plan.partitions)
    }

    func stop() async {}
}

extension StreamingContext {
    /// A stream whose batches come from `queue` (Spark's `queueStream`).
    ///
    /// - Parameters:
    ///   - oneAtATime: true: one queued batch per batch; false: everything queued.
    ///   - defaultBatch: elements of a batch when the queue is empty (default: empty batch).
    ///   - partitions: partitions each batch is split into. Default: the context's default parallelism.
    public func queueStream<Element: Sendable>(
        _ queue: BatchQueue<Element>,
        oneAtATime: Bool = true,
        defaultBatch: [Element]? = nil,
        partitions: Int? = nil
    ) -> DStream<Element> {
        inputStream(QueueSource(queue: queue, oneAtATime: oneAtATime, defaultBatch: defaultBatch, partitions: partitions))
    }

    /// A stream of the given batches, one per batch interval, then empty batches.
    public func queueStream<Element: Sendable>(
        _ batches: [[Element]],
        partitions: Int? = nil
    ) -> DStream<Element> {
        queueStream(BatchQueue(batches), partitions: partitions)
    }
}
