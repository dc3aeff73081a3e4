/// A store that commits, in one atomic transaction per batch, the batch's
/// result rows, the until-offset of every input partition, the state
/// changes of every stateful operator and the batch time — and reads the
/// offsets and state back at start (DESIGN.md, "Exactly-once").
///
/// The job name keys offsets and state, so several jobs can share a store.
public protocol ExactlyOnceStore: Sendable {
    /// A short description for logs and errors (`sqlite:views.db`).
    var description: String { get }

    /// Prepares the store for `job` (creating its result tables) and returns
    /// what the job committed last, or an empty recovery for a new job.
    func recover(job: String, tables: [ResultTable]) async throws -> RecoveredJob

    /// Makes `owner` the job's owner: advances the job's owner epoch and
    /// returns it, so that commits of an earlier owner fail (``OwnerClaim``).
    /// An exactly-once output claims its job before it recovers it.
    func claim(job: String, owner: JobOwner) async throws -> OwnerClaim

    /// Commits one batch atomically; throws (and commits nothing) on
    /// failure, and throws ``StreamingError/Code/fenced`` when the commit's
    /// ``BatchCommit/ownerEpoch`` is no longer the job's.

    /// A commit with task sections (``BatchCommit/tasks``) writes each
    /// section only if its epoch is still the task's, and reports the
    /// sections it left out.
    @discardableResult
    func commit(_ commit: BatchCommit) async throws -> CommitOutcome

    /// Claims tasks of `job` for `owner` (a job split into tasks): advances
    /// each task's owner epoch and returns it. Commits of a task's earlier
    /// owner are left out from then on.
    func claim(job: String, tasks: [TaskID], owner: JobOwner) async throws -> [TaskID: Int64]

    /// What `job` committed for some of its partitions and operators: the
    /// next offset of each of `partitions` (those the store has), and the
    /// state of each operator in `operators` (stored names; those the store
    /// has). Used when tasks move to this process.
    func recover(job: String, partitions: [TaskID], operators: [String]) async throws -> RecoveredJob

    /// Forgets a job's offsets, state, dead letters and owner (not its
    /// results): its next start begins from the source's start position
    /// with empty state, and a process still running it is fenced. The way
    /// out when stored state no longer fits the job.
    func reset(job: String) async throws
}

extension ExactlyOnceStore {
    /// Stores that keep a job in one process only.
    public func claim(job: String, tasks: [TaskID], owner: JobOwner) async throws -> [TaskID: Int64] {
        throw StreamingError(
            code: .invalidArgument,
            message: "\(description) keeps a job in one process: it cannot split job '\(job)' into tasks; "
                + "use the SQLite or PostgreSQL store, or run the job without a repartition")
    }

    public func recover(job: String, partitions: [TaskID], operators: [String]) async throws -> RecoveredJob {
        throw StreamingError(code: .invalidArgument, message: "\(description) cannot recover tasks of job '\(job)'")
    }

    /// ``recover(job:tables:)`` for a job writing one table.
    public func recover(job: String, table: ResultTable) async throws -> RecoveredJob {
        try await recover(job: job, tables: [table])
    }
}

/// What a job committed last.
public struct RecoveredJob: Sendable {
    /// The time of the last committed batch, or nil for a new job.
    public var lastBatchTime: Time?
    /// Next offset to read per source partition.
    public var offsets: [SourceOffset]
    /// Stored state per operator name.
    public var operators: [String: RecoveredOperatorState]

    public init(lastBatchTime: Time?, offsets: [SourceOffset], operators: [String: RecoveredOperatorState]) {
        self.lastBatchTime = lastBatchTime
        self.offsets = offsets
        self.operators = operators
    }

    /// Nothing committed yet.
    public static let empty = RecoveredJob(lastBatchTime: nil, offsets: [], operators: [:])
}

/// One operator's stored state.
public struct RecoveredOperatorState: Sendable {
    public var encoding: String
    public var entries: [EncodedStateEntry]

    public init(encoding: String, entries: [EncodedStateEntry]) {
        self.encoding = encoding
        self.entries = entries
    }
}

/// Everything one batch commits.
public struct BatchCommit: Sendable {
    public var job: String
    public var batchTime: Time
    /// The rows of every result table the job writes, in declaration order.
    public var writes: [TableWrite]
    /// The until-offset of every range the batch read.
    public var offsets: [SourceOffset]
    public var stateChanges: [OperatorStateChange]
    /// Records that could not be processed, stored with their position.
    public var deadLetters: [DeadLetter]
    /// The committing owner's epoch (``OwnerClaim/epoch``); the store
    /// refuses the commit when it is no longer the job's. nil: unchecked.
    public var ownerEpoch: Int64?
    /// The tasks' sections, for a job split into tasks; each is written or
    /// left out on its own (``TaskCommit``).
    public var tasks: [TaskCommit] = []

    public init(
        job: String, batchTime: Time, writes: [TableWrite], offsets: [SourceOffset],
        stateChanges: [OperatorStateChange], deadLetters: [DeadLetter] = [], ownerEpoch: Int64? = nil,
        tasks: [TaskCommit] = []
    ) {
        self.ownerEpoch = ownerEpoch
        self.tasks = tasks
        self.job = job
        self.batchTime = batchTime
        self.writes = writes
        self.offsets = offsets
        self.stateChanges = stateChanges
        self.deadLetters = deadLetters
    }

    /// A commit writing one table.
    public init(
        job: String, batchTime: Time, table: ResultTable, rows: [[ResultValue]], offsets: [SourceOffset],
        stateChanges: [OperatorStateChange], deadLetters: [DeadLetter] = [], ownerEpoch: Int64? = nil
    ) {
        self.init(job: job, batchTime: batchTime, writes: [TableWrite(table: table, rows: rows)], offsets: offsets,
                  stateChanges: stateChanges, deadLetters: deadLetters, ownerEpoch: ownerEpoch)
    }

    /// The commit with every task section's writes, offsets, state and
    /// dead letters moved to the top level (for stores that write all of
    /// them, checking no task epochs).
    public func withSectionsMerged() -> BatchCommit {
        var merged = self
        merged.tasks = []
        for section in tasks {
            merged.writes += section.writes
            merged.offsets += section.offsets
            merged.stateChanges += section.stateChanges
            merged.deadLetters += section.deadLetters
        }
        return merged
    }

    /// The rows of the first table (commits of one table).
    public var rows: [[ResultValue]] {
        get { writes.first?.rows ?? [] }
        set { if writes.isEmpty { return }; writes[0].rows = newValue }
    }
}

/// One task's part of a batch's commit: written only if `epoch` is still
/// the task's owner epoch in the store, all of it or nothing.
public struct TaskCommit: Sendable {
    public var task: TaskID
    public var epoch: Int64
    public var writes: [TableWrite]
    /// The until-offset of the task's range(s).
    public var offsets: [SourceOffset]
    public var stateChanges: [OperatorStateChange]
    public var deadLetters: [DeadLetter]

    public init(
        task: TaskID, epoch: Int64, writes: [TableWrite], offsets: [SourceOffset],
        stateChanges: [OperatorStateChange], deadLetters: [DeadLetter] = []
    ) {
        self.task = task
        self.epoch = epoch
        self.writes = writes
        self.offsets = offsets
        self.stateChanges = stateChanges
        self.deadLetters = deadLetters
    }
}

/// What a commit left out.
public struct CommitOutcome: Sendable, Hashable {
    /// Task sections refused because another process claimed the task since.
    public var fenced: [FencedTask]

    public init(fenced: [FencedTask] = []) {
        self.fenced = fenced
    }
}

/// A task section a commit refused, and who holds the task now.
public struct FencedTask: Sendable, Hashable, CustomStringConvertible {
    public var task: TaskID
    /// The owner the store names for the task (nil: none, the job was reset).
    public var owner: String?

    public init(task: TaskID, owner: String?) {
        self.task = task
        self.owner = owner
    }

    public var description: String { "\(task) (held by \(owner ?? "nobody"))" }
}

/// One result table's rows in one batch.
public struct TableWrite: Sendable {
    public var table: ResultTable
    public var rows: [[ResultValue]]

    public init(table: ResultTable, rows: [[ResultValue]]) {
        self.table = table
        self.rows = rows
    }
}

/// The changes of one operator's state in one batch.
public struct OperatorStateChange: Sendable {
    public var name: String
    public var encoding: String
    public var delta: EncodedStateDelta

    public init(name: String, encoding: String, delta: EncodedStateDelta) {
        self.name = name
        self.encoding = encoding
        self.delta = delta
    }
}

/// A record that failed to decode or whose function threw, with where it
/// came from, so nothing is lost silently.
public struct DeadLetter: Hashable, Sendable, Codable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var error: String
    public var payload: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, error: String, payload: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.error = error
        self.payload = payload
    }
}
