/// A task (DESIGN.md, "Scale-out"; Kafka Streams' tasks): one partition of a
/// job's input — of a topic, or of a repartition topic — with its offsets and
/// the state that partition's keys have in every stateful operator. A task is
/// owned by one process at a time; its state, offsets and results are
/// committed together and move together when its partition moves.
public struct TaskID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// The task of a range's partition.
    public init(_ range: OffsetRange) {
        self.init(topic: range.topic, partition: range.partition)
    }

    /// `topic-partition`, as partitions are named elsewhere.
    public var description: String { "\(topic)-\(partition)" }

    public static func < (lhs: TaskID, rhs: TaskID) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }
}

/// One ownership of a task: the task and the owner epoch the store gave the
/// claim. State kept under one epoch is never seen under another, so a batch
/// planned before the task moved away and came back cannot touch the state
/// restored when it came back.
public struct TaskKey: Hashable, Sendable, CustomStringConvertible {
    public var task: TaskID
    public var epoch: Int64

    public init(task: TaskID, epoch: Int64) {
        self.task = task
        self.epoch = epoch
    }

    public var description: String { "\(task) (claim \(epoch))" }
}

/// The task a batch is being computed for. An exactly-once output of a job
/// whose inputs are split into tasks computes each task's batch with its
/// task here: input streams then hold that task's partition only, and
/// stateful operators read and write that task's state. nil: the whole job.
public enum TaskScope {
    @TaskLocal public static var current: TaskKey?
}
