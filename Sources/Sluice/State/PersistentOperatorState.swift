/// A stateful operator's state as the exactly-once layer sees it: a stable
/// name, an encoding, the changes since the last commit as bytes, and a way
/// back from stored bytes. Implemented by ``KeyedState``; operators register
/// theirs with the graph when they are created.
public protocol PersistentOperatorState: AnyObject, Sendable {
    /// Stable across restarts of the same job: the operator kind and its
    /// ordinal among stateful operators (`updateStateByKey#1`), or a name
    /// the user gave.
    var name: String { get }
    /// The encoding of keys and values (see ``StateCodec``).
    var encoding: String { get }
    /// Keys written and removed since the last commit, encoded.
    func encodedDelta() throws -> EncodedStateDelta
    /// Every entry, encoded (a full snapshot).
    func encodedSnapshot() throws -> [EncodedStateEntry]
    /// The delta was committed with its batch.
    func markCommitted()
    /// Starts recording changes for deltas (an exactly-once output commits
    /// them); with `includeExisting`, what is held now counts as changed.
    func beginChangeTracking(includeExisting: Bool)
    /// Replaces the state with stored entries.
    func restore(_ entries: [EncodedStateEntry]) throws
    /// Whether the state can be kept per task (``TaskScope``), as jobs split
    /// into tasks need; every other method then acts on the current task's.
    var supportsTasks: Bool { get }
    /// Forgets a task's state: the task moved to another process, or its
    /// ownership ended.
    func drop(_ task: TaskKey)
}

/// One encoded key and value.
public struct EncodedStateEntry: Hashable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// Encoded changes of one operator's state since the last commit.
public struct EncodedStateDelta: Hashable, Sendable {
    public var upserts: [EncodedStateEntry]
    public var deletes: [[UInt8]]
    public init(upserts: [EncodedStateEntry], deletes: [[UInt8]]) {
        self.upserts = upserts
        self.deletes = deletes
    }
    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }
}

/// Keyed operator state: an in-memory store with a codec and a name.
///
/// Under a job split into tasks the state is one store per task
/// (``TaskScope/current``): `store` and every method here act on the
/// current task's store, made empty on first use.
public final class KeyedState<Key: Hashable & Sendable & Codable, Value: Sendable & Codable>: PersistentOperatorState {
    public let name: String
    /// Whether the operator keeps everything else it remembers per task
    /// too, so that its state can be split into tasks.
    public let supportsTasks: Bool
    private let stores: PerTask<InMemoryKeyValueStore<Key, Value>>
    private let tracking: Locked<Bool>
    private let codec = StateCodec<Key, Value>()

    public convenience init(name: String) {
        self.init(name: name, shards: 1, supportsTasks: false)
    }

    /// State whose stores are split into `shards` shards by key hash (see
    /// ``InMemoryKeyValueStore``).
    @usableFromInline
    init(name: String, shards: Int, supportsTasks: Bool) {
        self.name = name
        self.supportsTasks = supportsTasks
        let tracking = Locked(false)
        self.tracking = tracking
        stores = PerTask {
            let store = InMemoryKeyValueStore<Key, Value>(shardCount: shards)
            if tracking.value { store.beginChangeTracking(includeExisting: false) }
            return store
        }
    }

    /// The current task's store.
    public var store: InMemoryKeyValueStore<Key, Value> { stores.current }

    public var encoding: String { codec.encoding }

    public func encodedDelta() throws -> EncodedStateDelta {
        let delta = store.delta()
        return EncodedStateDelta(
            upserts: try delta.upserts.map { EncodedStateEntry(key: try codec.encodeKey($0.key), value: try codec.encodeValue($0.value)) },
            deletes: try delta.deletes.map { try codec.encodeKey($0) })
    }

    public func encodedSnapshot() throws -> [EncodedStateEntry] {
        try store.entries().map { EncodedStateEntry(key: try codec.encodeKey($0.key), value: try codec.encodeValue($0.value)) }
    }

    public func markCommitted() { store.markCommitted() }

    public func beginChangeTracking(includeExisting: Bool) {
        tracking.withLock { $0 = true }
        store.beginChangeTracking(includeExisting: includeExisting)
    }

    public func restore(_ entries: [EncodedStateEntry]) throws {
        store.restore(try entries.map { (key: try codec.decodeKey($0.key), value: try codec.decodeValue($0.value)) })
    }

    public func drop(_ task: TaskKey) { stores.drop(task) }
}

/// The stateful operators of one graph, in creation order.
@usableFromInline
final class StateRegistry: Sendable {
    private struct Entry {
        let nodeID: Int
        let state: any PersistentOperatorState
        let advance: (@Sendable (Time) async throws -> Void)?
    }

    private let entries = Locked<[Entry]>([])
    private let ordinals = Locked<[String: Int]>([:])
    private let exactlyOnceJob = Locked<String?>(nil)

    /// Only one exactly-once output per context: its transaction must hold
    /// every stateful operator's changes.
    func claimExactlyOnce(job: String) throws {
        if let name = duplicate.value {
            throw StreamingError(
                code: .invalidArgument,
                message: "two stateful operators are named '\(name)'; give each a distinct name so their stored state stays apart")
        }
        try exactlyOnceJob.withLock { current in
            if let current {
                throw StreamingError(
                    code: .invalidArgument,
                    message: "this context already has an exactly-once output (job '\(current)'); one transaction per batch needs one exactly-once output — write several tables from one job instead")
            }
            current = job
        }
    }

    /// The stable default name of the next operator of `kind`: `kind#n`.
    @usableFromInline
    func nextName(kind: String) -> String {
        ordinals.withLock { ordinals in
            let next = (ordinals[kind] ?? 0) + 1
            ordinals[kind] = next
            return "\(kind)#\(next)"
        }
    }

    private let duplicate = Locked<String?>(nil)

    /// Registers the state of the stream node `nodeID`. A name used twice is
    /// reported when an exactly-once output is attached.
    ///
    /// - Parameter advance: for a node that does not run every batch (a
    ///   window sliding by more than its parent), brings its state up to a
    ///   batch time off its grid, so that a commit of that batch holds what
    ///   the batch's input changed (its offsets are committed with it).
    @usableFromInline
    func register(nodeID: Int, _ state: any PersistentOperatorState, advance: (@Sendable (Time) async throws -> Void)? = nil) {
        entries.withLock { entries in
            if entries.contains(where: { $0.state.name == state.name }) {
                duplicate.withLock { $0 = $0 ?? state.name }
            }
            entries.append(Entry(nodeID: nodeID, state: state, advance: advance))
        }
    }

    /// The `advance` hooks of the given nodes, in registration order.
    func advancers(ofNodes nodeIDs: Set<Int>) -> [@Sendable (Time) async throws -> Void] {
        entries.withLock { $0.filter { nodeIDs.contains($0.nodeID) }.compactMap(\.advance) }
    }

    private let memoryOnlyWindows = Locked<[Int: String]>([:])

    /// Records that the stream node `nodeID` is a window (made by
    /// `operator`) whose batches live in memory only and are not part of
    /// any stored state.
    func registerMemoryOnlyWindow(nodeID: Int, operator: String) {
        memoryOnlyWindows.withLock { $0[nodeID] = `operator` }
    }

    /// The operators of the given nodes that keep windows in memory only,
    /// by node id.
    func memoryOnlyWindows(ofNodes nodeIDs: Set<Int>) -> [(nodeID: Int, operator: String)] {
        memoryOnlyWindows.withLock { windows in
            windows.filter { nodeIDs.contains($0.key) }.sorted { $0.key < $1.key }.map { (nodeID: $0.key, operator: $0.value) }
        }
    }

    /// The states of the given nodes, in registration order.
    func states(ofNodes nodeIDs: Set<Int>) -> [any PersistentOperatorState] {
        entries.withLock { $0.filter { nodeIDs.contains($0.nodeID) }.map(\.state) }
    }
}
