/// The data of one stream for one batch time: a list of partitions (Spark's
/// RDD). Narrow operators are lazy and fused per partition; shuffles and
/// outputs evaluate the partitions in parallel, one task per partition.
///
/// Order: partitions keep their order, and elements keep their order inside a
/// partition, through narrow operators. Keyed operators hash-partition their
/// output; the order of keys in their result is unspecified (as in Spark),
/// but the same for a given process and input whatever the thread timing.
public struct Batch<Element: Sendable>: Sendable {
    public var partitions: [Partition<Element>]
    /// The task of each partition, for an input whose partitions are tasks
    /// (``InputSource/partitionsAreTasks``); nil otherwise. Operators do not
    /// carry it: a job split into tasks computes each task's batch apart.
    public var tasks: [TaskID]?

    @inlinable
    public init(partitions: [Partition<Element>]) {
        self.partitions = partitions
        self.tasks = nil
    }

    /// A batch of an input whose partitions are tasks: `tasks[i]` is the
    /// task of `partitions[i]`.
    public init(partitions: [Partition<Element>], tasks: [TaskID]) {
        precondition(partitions.count == tasks.count, "one task per partition")
        self.partitions = partitions
        self.tasks = tasks
    }

    /// The partitions of `task` (an empty batch when it has none).
    func restricted(to task: TaskID) -> Batch<Element> {
        guard let tasks else { return self }
        let own = zip(partitions, tasks).filter { $0.1 == task }.map(\.0)
        return own.isEmpty ? .empty : Batch(partitions: own, tasks: Array(repeating: task, count: own.count))
    }

    /// A batch of one materialised partition.
    @inlinable
    public init(_ elements: [Element]) {
        partitions = [Partition(elements)]
        tasks = nil
    }

    /// A batch that splits `elements` into `count` contiguous partitions
    /// (fewer when there are fewer elements; at least one).
    public init(_ elements: [Element], partitionCount count: Int) {
        let n = max(1, min(count, elements.count))
        var parts: [Partition<Element>] = []
        parts.reserveCapacity(n)
        for index in 0..<n {
            let lower = elements.count * index / n
            let upper = elements.count * (index + 1) / n
            parts.append(Partition(Array(elements[lower..<upper])))
        }
        partitions = parts
        tasks = nil
    }

    /// The empty batch (one empty partition).
    public static var empty: Batch<Element> { Batch([]) }

    /// All elements, partition by partition, evaluated on the calling task.
    @inlinable
    public func collect() -> [Element] {
        var result: [Element] = []
        for partition in partitions {
            partition.forEach { result.append($0) }
        }
        return result
    }

    /// The number of elements.
    @inlinable
    public func count() -> Int {
        var total = 0
        for partition in partitions {
            if let known = partition.knownCount {
                total += known
            } else {
                partition.forEach { _ in total += 1 }
            }
        }
        return total
    }

    /// The sum of the partitions' counts known without evaluating them.
    @usableFromInline
    var knownCount: Int { partitions.reduce(0) { $0 + ($1.knownCount ?? 0) } }

    /// Whether any partition's records are still being read.
    @inlinable
    public var isArriving: Bool { partitions.contains(where: \.isArriving) }

    /// The batch once every partition's records arrived; throws a
    /// `StreamingError` (`sourceFailed`) when an input cannot be read whole.
    @inlinable
    public func arrived() async throws -> Batch<Element> {
        guard isArriving else { return self }
        var arrived: [Partition<Element>] = []
        arrived.reserveCapacity(partitions.count)
        for partition in partitions { arrived.append(try await partition.arrived()) }
        var batch = Batch(partitions: arrived)
        batch.tasks = tasks
        return batch
    }

    /// The batch with every partition evaluated, in parallel.
    @inlinable
    public func materialized() async -> Batch<Element> {
        if partitions.allSatisfy(\.isMaterialized) { return self }
        let parts = await Parallel.map(partitions) { $0.materialized() }
        var batch = Batch(partitions: parts)
        batch.tasks = tasks
        return batch
    }

    @inlinable
    public func map<T: Sendable>(_ transform: @escaping @Sendable (Element) -> T) -> Batch<T> {
        Batch<T>(partitions: partitions.map { $0.map(transform) })
    }

    @inlinable
    public func filter(_ isIncluded: @escaping @Sendable (Element) -> Bool) -> Batch<Element> {
        Batch(partitions: partitions.map { $0.filter(isIncluded) })
    }

    @inlinable
    public func flatMap<S: Sequence>(
        _ transform: @escaping @Sendable (Element) -> S
    ) -> Batch<S.Element> where S: SendableMetatype, S.Element: Sendable {
        Batch<S.Element>(partitions: partitions.map { $0.flatMap(transform) })
    }

    /// Applies `transform` to each partition's elements (Spark's `mapPartitions`).
    @inlinable
    public func mapPartitions<T: Sendable>(
        _ transform: @escaping @Sendable ([Element]) -> [T]
    ) -> Batch<T> {
        Batch<T>(partitions: partitions.map { $0.mapElements(transform) })
    }

    /// The partitions of `self` followed by those of `other` (Spark's RDD union).
    @inlinable
    public func union(_ other: Batch<Element>) -> Batch<Element> {
        Batch(partitions: partitions + other.partitions)
    }
}
