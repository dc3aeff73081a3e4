/// One partition of a batch: the unit of parallel work (one Kafka partition,
/// one file, one slice of socket lines, one hash bucket after a shuffle).
///
/// A partition is either materialised (an array) or a lazy pipeline of
/// narrow operators (`map`, `filter`, `flatMap`) over a parent partition,
/// evaluated by pushing each element through the fused closures — no
/// intermediate arrays, like Spark's pipelined narrow dependencies.
public struct Partition<Element: Sendable>: Sendable {
    @usableFromInline
    enum Storage: Sendable {
        case elements([Element])
        case pipeline(@Sendable (_ body: (Element) -> Void) -> Void)
    }

    @usableFromInline
    let storage: Storage
    /// The number of elements, when known without evaluating the partition.
    @usableFromInline
    let knownCount: Int?

    /// A materialised partition.
    @inlinable
    public init(_ elements: [Element]) {
        storage = .elements(elements)
        knownCount = elements.count
    }

    /// A lazy partition that produces its elements by calling `body` for
    /// each; `count`, when given, must be the number of elements it produces.
    @inlinable
    public init(count: Int? = nil, generator: @escaping @Sendable (_ body: (Element) -> Void) -> Void) {
        storage = .pipeline(generator)
        knownCount = count
    }

    /// Calls `body` for every element, in order.
    @inlinable
    public func forEach(_ body: (Element) -> Void) {
        switch storage {
        case .elements(let elements):
            for element in elements { body(element) }
        case .pipeline(let run):
            run(body)
        }
    }

    /// The elements, evaluating the pipeline if needed.
    @inlinable
    public func collect() -> [Element] {
        switch storage {
        case .elements(let elements):
            return elements
        case .pipeline(let run):
            var result: [Element] = []
            run { result.append($0) }
            return result
        }
    }

    /// Whether the elements are already computed.
    @inlinable
    public var isMaterialized: Bool {
        if case .elements = storage { return true }
        return false
    }

    /// The partition with its elements computed.
    @inlinable
    public func materialized() -> Partition<Element> {
        isMaterialized ? self : Partition(collect())
    }

    @inlinable
    public func map<T: Sendable>(_ transform: @escaping @Sendable (Element) -> T) -> Partition<T> {
        let parent = self
        return Partition<T> { body in parent.forEach { body(transform($0)) } }
    }

    @inlinable
    public func filter(_ isIncluded: @escaping @Sendable (Element) -> Bool) -> Partition<Element> {
        let parent = self
        return Partition { body in
            parent.forEach { if isIncluded($0) { body($0) } }
        }
    }

    @inlinable
    public func flatMap<S: Sequence>(
        _ transform: @escaping @Sendable (Element) -> S
    ) -> Partition<S.Element> where S.Element: Sendable {
        let parent = self
        return Partition<S.Element> { body in
            parent.forEach { element in
                for inner in transform(element) { body(inner) }
            }
        }
    }

    /// Applies `transform` to the whole partition (Spark's `mapPartitions`).
    @inlinable
    public func mapElements<T: Sendable>(
        _ transform: @escaping @Sendable ([Element]) -> [T]
    ) -> Partition<T> {
        let parent = self
        return Partition<T> { body in
            for element in transform(parent.collect()) { body(element) }
        }
    }
}
