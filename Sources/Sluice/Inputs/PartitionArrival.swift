/// The records of one input partition while they are being read, handed on
/// piece by piece (Spark's `KafkaRDD` computes a partition while its
/// iterator fetches). A source creates one per partition, returns
/// `Partition(count:arrival:)` from `read(_:)` at once, and appends pieces
/// as records arrive; then `finish()`, or `fail(_:)` when the partition
/// cannot be read whole.
///
/// Operators that can work piece by piece (`map`, `filter`, `flatMap`,
/// `countTokens`) start on the first piece while later ones are read. Every
/// other consumer, and every output, sees the partition only once all of it
/// arrived, so nothing is output from half a partition: a failed read fails
/// the batch before its outputs run.
public final class PartitionArrival<Element: Sendable>: Sendable {
    private struct State {
        /// Nil once released: read by the one operator that reads it.
        var pieces: [Partition<Element>?] = []
        var finished = false
        var failure: StreamingError?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Locked(State())

    public init() {}

    /// Adds the next records of the partition, in order.
    public func append(_ piece: Partition<Element>) {
        resume(state.withLock { state in
            guard !state.finished && state.failure == nil else { return [] }
            state.pieces.append(piece)
            return Self.takeWaiters(&state)
        })
    }

    /// Every record of the partition has been appended.
    public func finish() {
        resume(state.withLock { state in
            state.finished = true
            return Self.takeWaiters(&state)
        })
    }

    /// The partition cannot be read whole: whoever reads it gets `error`
    /// (as a `StreamingError` of code `sourceFailed`).
    public func fail(_ error: any Error) {
        let failure: StreamingError
        if let error = error as? StreamingError, error.code == .sourceFailed {
            failure = error
        } else {
            failure = StreamingError(code: .sourceFailed, message: "a partition could not be read whole: \(error)", underlying: error)
        }
        resume(state.withLock { state in
            guard !state.finished && state.failure == nil else { return [] }
            state.failure = failure
            return Self.takeWaiters(&state)
        })
    }

    /// The piece at `index`, waiting for it; nil after the last piece.
    func piece(at index: Int) async throws -> Partition<Element>? {
        while true {
            let current: Result<Partition<Element>?, StreamingError>? = state.withLock { state in
                if index < state.pieces.count {
                    guard let piece = state.pieces[index] else {
                        return .failure(StreamingError(
                            code: .sourceFailed,
                            message: "piece \(index) of an input partition was read again after its one reader released it (a bug in how Sluice decided the input is read once)"))
                    }
                    return .success(piece)
                }
                if let failure = state.failure { return .failure(failure) }
                return state.finished ? .success(nil) : nil
            }
            if let current { return try current.get() }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if index < state.pieces.count || state.finished || state.failure != nil { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Drops piece `index` (its one reader has it).
    func release(_ index: Int) {
        state.withLock { state in
            if index < state.pieces.count { state.pieces[index] = nil }
        }
    }

    /// Pieces held (tests).
    var heldPieces: Int { state.withLock { $0.pieces.reduce(0) { $0 + ($1 == nil ? 0 : 1) } } }

    var pieces: ArrivingPieces<Element> {
        ArrivingPieces({ index in try await self.piece(at: index) }, release: { self.release($0) })
    }

    private static func takeWaiters(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        defer { state.waiters.removeAll() }
        return state.waiters
    }

    private func resume(_ waiters: [CheckedContinuation<Void, Never>]) {
        for waiter in waiters { waiter.resume() }
    }
}

/// The pieces of a partition still being read, in order, as seen through
/// the narrow operators applied to it: `piece(at:)` waits for a piece and
/// returns nil after the last.
@usableFromInline
struct ArrivingPieces<Element: Sendable>: Sendable {
    @usableFromInline
    let piece: @Sendable (_ index: Int) async throws -> Partition<Element>?
    /// Drops a piece at its source (the arrival's own pieces only).
    let release: (@Sendable (_ index: Int) -> Void)?

    @usableFromInline
    init(_ piece: @escaping @Sendable (_ index: Int) async throws -> Partition<Element>?,
         release: (@Sendable (_ index: Int) -> Void)? = nil) {
        self.piece = piece
        self.release = release
    }

    /// The same pieces, each released at its source once handed over: for
    /// an input whose only reader reads each piece once, so its memory is
    /// reused while the rest of the batch arrives. A piece asked for again
    /// is an error, never a silent gap.
    func releasedOnceRead() -> ArrivingPieces<Element> {
        guard let release else { return self }
        let base = self
        return ArrivingPieces { index in
            let piece = try await base.piece(index)
            if piece != nil { release(index) }
            return piece
        }
    }

    /// The same pieces, each transformed (lazily, like the narrow operators).
    @usableFromInline
    func map<T: Sendable>(_ transform: @escaping @Sendable (Partition<Element>) -> Partition<T>) -> ArrivingPieces<T> {
        let parent = self
        return ArrivingPieces<T> { index in try await parent.piece(index).map(transform) }
    }
}
