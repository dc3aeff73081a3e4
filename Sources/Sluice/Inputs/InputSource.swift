import Logging

/// What a source decided one batch contains, decided before the batch runs
/// and recorded, so that the batch can be computed again from it (for the
/// Kafka direct stream: one `OffsetRange` per partition).
public protocol InputPlan: Sendable {
    /// The offset ranges the batch reads; empty for sources without offsets.
    var offsetRanges: [OffsetRange] { get }
    /// How far each source partition is behind after this batch, if known.
    var partitionLag: [PartitionLag] { get }
    /// The input records the batch holds, when its elements are not those
    /// records (a source that combines records as they arrive) or are still
    /// arriving (``PartitionArrival``); nil: the batch's element count (its
    /// partitions' known counts while they arrive).
    var recordCount: Int? { get }
}

extension InputPlan {
    public var offsetRanges: [OffsetRange] { [] }
    public var partitionLag: [PartitionLag] { [] }
    public var recordCount: Int? { nil }
}

/// What the scheduler tells a source when it plans the batch for a time.
public struct PlanningContext: Sendable {
    /// The time of the batch being planned.
    public var batchTime: Time
    /// The context's batch interval.
    public var batchInterval: Duration
    /// Records per second for this input allowed by backpressure (Spark's
    /// `RateController.getLatestRate`), or nil when backpressure is off or
    /// no estimate exists yet. Combine it with the source's own cap through
    /// `RateLimit.maxRecordsPerPartition`.
    public var estimatedRate: Double?
    /// The context's default number of partitions (cores).
    public var defaultParallelism: Int

    public init(batchTime: Time, batchInterval: Duration, estimatedRate: Double?, defaultParallelism: Int) {
        self.batchTime = batchTime
        self.batchInterval = batchInterval
        self.estimatedRate = estimatedRate
        self.defaultParallelism = defaultParallelism
    }
}

/// What a source is given when the context starts it.
public struct SourceContext: Sendable {
    /// The input's id, unique within the context.
    public var inputID: Int
    public var batchInterval: Duration
    public var defaultParallelism: Int
    public var logger: Logger
    /// Counts records a source skipped as undecodable
    /// (`sluice_input_undecodable_records_total`).
    public var undecodable: UndecodableRecordCounter
}

/// An input of a streaming context (Spark's `InputDStream`), e.g. the Kafka
/// direct stream: at each batch time the scheduler asks it to `plan` the batch
/// (on the driver, in time order, before the batch runs; the plan's offset
/// ranges are recorded), and later to `read` the batch's partitions from that
/// plan — possibly while the previous batch is still being processed.
///
/// `read` must depend only on the plan, so that reading the same plan again
/// (after a crash) gives the same records.
public protocol InputSource<Element>: AnyObject, Sendable {
    associatedtype Element: Sendable
    associatedtype Plan: InputPlan

    /// A short name for logs and errors, e.g. `socket localhost:9999`.
    var name: String { get }

    /// Called once when the context starts, before the first batch is planned.
    /// Throw to fail the start (the error ends `awaitTermination`).
    func start(_ context: SourceContext) async throws

    /// Decides what the batch at `context.batchTime` contains. Calls come in
    /// strictly increasing batch time, one at a time.
    func plan(_ context: PlanningContext) async throws -> Plan

    /// The batch's data, one partition per unit of parallel work (e.g. per
    /// Kafka partition). Partitions may be lazy (evaluated by each consumer)
    /// when evaluating them has no side effect; give their count
    /// (`Partition(count:generator:)`) so the batch's record count is free.
    func read(_ plan: Plan) async throws -> Batch<Element>

    /// Called once when the context stops, after the last batch ran.
    func stop() async

    /// Whether the source can start at given offsets and read the same
    /// records again for them; exactly-once outputs require it. Default: false.
    var supportsReplay: Bool { get }

    /// Starts the given partitions at these offsets (the next record to
    /// read), overriding any other start position. Called before `start`
    /// by an exactly-once output with the offsets it recovered. Default: ignored.
    func resume(from offsets: [SourceOffset])

    /// Whether each partition of a batch is a task (``TaskID``) that the
    /// source may gain and lose while it runs — a Kafka partition assigned
    /// through a consumer group — and whose batches carry their tasks
    /// (``Batch/tasks``). Default: false.
    var partitionsAreTasks: Bool { get }

    /// Called before `start` by the exactly-once output of a job split into
    /// tasks: the source opens each task through `hooks` before planning it
    /// (taking its start offset from there) and closes the tasks it loses.
    /// Default: ignored.
    func setTaskHooks(_ hooks: TaskHooks)

    /// Whether the source reads a topic the job writes itself (a
    /// repartition): its records are reported apart from the job's input.
    /// Default: false.
    var isInternal: Bool { get }
}

extension InputSource {
    public var supportsReplay: Bool { false }
    public func resume(from offsets: [SourceOffset]) {}
    public var partitionsAreTasks: Bool { false }
    public func setTaskHooks(_ hooks: TaskHooks) {}
    public var isInternal: Bool { false }
}

/// The position of one source partition: the offset of the next record to
/// read (what an exactly-once sink stores with a batch's results).
public struct SourceOffset: Hashable, Sendable, Codable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)-\(partition)@\(offset)" }
}

/// An input source, erased for the scheduler; typed again by its stream.
struct RegisteredInput: Sendable {
    let id: Int
    let name: String
    let node: StreamNode
    let start: @Sendable (SourceContext) async throws -> Void
    let plan: @Sendable (PlanningContext) async throws -> PlannedInput
    let stop: @Sendable () async -> Void
    let supportsReplay: Bool
    let resume: @Sendable ([SourceOffset]) -> Void
    let partitionsAreTasks: Bool
    let setTaskHooks: @Sendable (TaskHooks) -> Void
    let isInternal: Bool
}

/// One input's plan for one batch.
struct PlannedInput: Sendable {
    let inputID: Int
    let offsetRanges: [OffsetRange]
    let partitionLag: [PartitionLag]
    /// Reads the batch into the input stream; returns the number of records.
    let read: @Sendable () async throws -> Int
}
