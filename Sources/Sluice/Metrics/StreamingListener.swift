/// Receives the life of every batch (Spark's `StreamingListener`). Called on
/// the scheduler's tasks, in batch order; keep the work short. Every method
/// has an empty default.
public protocol StreamingListener: Sendable {
    /// The context started; the first batch will run at `firstBatchTime`.
    func streamingStarted(firstBatchTime: Time)
    /// A batch was planned and queued.
    func batchSubmitted(_ info: BatchInfo)
    /// A batch's output operations are about to run.
    func batchStarted(_ info: BatchInfo)
    /// Every output operation of a batch has run.
    func batchCompleted(_ info: BatchInfo)
    /// The context stopped, with the error that stopped it, if any.
    func streamingStopped(failure: StreamingError?)
}

extension StreamingListener {
    public func streamingStarted(firstBatchTime: Time) {}
    public func batchSubmitted(_ info: BatchInfo) {}
    public func batchStarted(_ info: BatchInfo) {}
    public func batchCompleted(_ info: BatchInfo) {}
    public func streamingStopped(failure: StreamingError?) {}
}
