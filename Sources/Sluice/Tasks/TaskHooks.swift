/// What an input whose partitions are tasks (the Kafka direct stream in a
/// consumer group) calls when the group moves partitions, so that a task's
/// offsets and state move with it. Set by the job's exactly-once output.
public struct TaskHooks: Sendable {
    /// Opens tasks assigned to this process before their first batch is
    /// planned (the batch at the given time): claims them in the store
    /// (fencing their previous owner), restores their state, and returns the
    /// next offset to read of each task the store has offsets for.
    public var open: @Sendable (_ tasks: [TaskID], _ firstBatch: Time) async throws -> [TaskID: Int64]
    /// The tasks were revoked or lost: batches planned for them and not yet
    /// committed are abandoned (their next owner replays them) and their
    /// state is dropped. Does not wait.
    public var close: @Sendable (_ tasks: [TaskID]) -> Void

    public init(
        open: @escaping @Sendable (_ tasks: [TaskID], _ firstBatch: Time) async throws -> [TaskID: Int64],
        close: @escaping @Sendable (_ tasks: [TaskID]) -> Void
    ) {
        self.open = open
        self.close = close
    }
}
