/// One partition of a batch: the unit of parallel work (one Kafka partition,
/// one file, one slice of socket lines, one hash bucket after a shuffle).
///
/// A partition is either materialised (an array) or a lazy pipeline of
/// narrow operators (`map`, `filter`, `flatMap`) over a parent partition,
/// evaluated by pushing each element through the fused closures — no
/// intermediate arrays, like Spark's pipelined narrow dependencies.
///
/// A partition of an input may still be arriving (``PartitionArrival``):
/// then `arrived()` waits for all of it, and `forEachPiece` hands over its
/// pieces as they come. Batches given to outputs and to operators other than
/// the narrow ones have arrived.
public struct Partition<Element: Sendable>: Sendable {
    @usableFromInline
    enum Storage: Sendable {
        case elements([Element])
        case pipeline(@Sendable (_ body: (Element) -> Void) -> Void)
        case arriving(ArrivingPieces<Element>)
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

    /// An input partition whose records `arrival` receives while the batch
    /// runs; `count`, when given, must be the number of elements it will
    /// hold (leave it nil when the read may skip positions, as Kafka
    /// transaction markers).
    public init(count: Int? = nil, arrival: PartitionArrival<Element>) {
        storage = .arriving(arrival.pieces)
        knownCount = count
    }

    @usableFromInline
    init(count: Int?, pieces: ArrivingPieces<Element>) {
        storage = .arriving(pieces)
        knownCount = count
    }

    /// Calls `body` for every element, in order. The partition must have
    /// arrived (see `arrived()`).
    @inlinable
    public func forEach(_ body: (Element) -> Void) {
        switch storage {
        case .elements(let elements):
            for element in elements { body(element) }
        case .pipeline(let run):
            run(body)
        case .arriving:
            preconditionFailure("a partition was read before its records arrived: await arrived() or forEachPiece first")
        }
    }

    /// The elements, evaluating the pipeline if needed.
    @inlinable
    public func collect() -> [Element] {
        switch storage {
        case .elements(let elements):
            return elements
        case .pipeline, .arriving:
            var result: [Element] = []
            forEach { result.append($0) }
            return result
        }
    }

    /// The partition, its arriving pieces released at their source once
    /// read (for an input with one reader that reads each piece once).
    func releasingPiecesOnceRead() -> Partition<Element> {
        guard case .arriving(let pieces) = storage else { return self }
        return Partition(count: knownCount, pieces: pieces.releasedOnceRead())
    }

    /// Whether the partition's records are still being read.
    @inlinable
    public var isArriving: Bool {
        if case .arriving = storage { return true }
        return false
    }

    /// The partition once all its records arrived; throws a `StreamingError`
    /// (`sourceFailed`) when they cannot be read.
    @inlinable
    public func arrived() async throws -> Partition<Element> {
        guard case .arriving(let arriving) = storage else { return self }
        var pieces: [Partition<Element>] = []
        while let piece = try await arriving.piece(pieces.count) {
            pieces.append(piece)
        }
        let all = pieces
        let counted = pieces.reduce(0 as Int?) { total, piece in total.flatMap { total in piece.knownCount.map { total + $0 } } }
        return Partition(count: knownCount ?? counted) { body in
            for piece in all { piece.forEach(body) }
        }
    }

    /// Calls `body` with each piece of the partition as it arrives (with the
    /// whole partition at once when it is not arriving), in order.
    @inlinable
    public func forEachPiece(_ body: (Partition<Element>) -> Void) async throws {
        guard case .arriving(let arriving) = storage else { return body(self) }
        var index = 0
        while let piece = try await arriving.piece(index) {
            body(piece)
            index += 1
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
        if case .arriving(let pieces) = storage {
            return Partition<T>(count: knownCount, pieces: pieces.map { $0.map(transform) })
        }
        let parent = self
        return Partition<T> { body in parent.forEach { body(transform($0)) } }
    }

    @inlinable
    public func filter(_ isIncluded: @escaping @Sendable (Element) -> Bool) -> Partition<Element> {
        if case .arriving(let pieces) = storage {
            return Partition(count: nil, pieces: pieces.map { $0.filter(isIncluded) })
        }
        let parent = self
        return Partition { body in
            parent.forEach { if isIncluded($0) { body($0) } }
        }
    }

    @inlinable
    public func flatMap<S: Sequence>(
        _ transform: @escaping @Sendable (Element) -> S
    ) -> Partition<S.Element> where S: SendableMetatype, S.Element: Sendable {
        if case .arriving(let pieces) = storage {
            return Partition<S.Element>(count: nil, pieces: pieces.map { $0.flatMap(transform) })
        }
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
        if parent.isArriving {
            // The whole partition at once: one piece, once it all arrived.
            return Partition<T>(count: nil, pieces: ArrivingPieces { index in
                index == 0 ? try await parent.arrived().mapElements(transform) : nil
            })
        }
        return Partition<T> { body in
            for element in transform(parent.collect()) { body(element) }
        }
    }
}
