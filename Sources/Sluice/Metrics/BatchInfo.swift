/// One input's part of a batch.
public struct InputBatchInfo: Sendable {
    public var inputID: Int
    public var name: String
    /// Records read for this batch (known once the batch has been read).
    public var records: Int
    public var offsetRanges: [OffsetRange]
    public var partitionLag: [PartitionLag]
    /// Whether the input is a topic the job writes itself (a repartition).
    public var isInternal: Bool = false
}

/// What happened to one batch (Spark's `BatchInfo`). Times are batch-clock
/// times; delays follow Spark: scheduling delay = start − submission,
/// processing delay = end − start, total delay = end − submission.
public struct BatchInfo: Sendable {
    public var batchTime: Time
    public var inputs: [InputBatchInfo]
    /// When the batch was planned and queued.
    public var submissionTime: Time
    public var processingStartTime: Time?
    public var processingEndTime: Time?

    /// Records of every input the job reads from outside (before the batch
    /// is read: the records its offset ranges cover); those of topics the
    /// job writes itself are `internalRecords`.
    public var numRecords: Int { inputs.filter { !$0.isInternal }.reduce(0) { $0 + $1.records } }

    /// Records of the topics the job writes itself (repartitions).
    public var internalRecords: Int { inputs.filter(\.isInternal).reduce(0) { $0 + $1.records } }

    /// Offset ranges of every input, in input order.
    public var offsetRanges: [OffsetRange] { inputs.flatMap(\.offsetRanges) }

    /// Lag of every source partition, in input order.
    public var partitionLag: [PartitionLag] { inputs.flatMap(\.partitionLag) }

    /// Total lag over all partitions (0 when no source reports lag).
    public var totalLag: Int64 { partitionLag.reduce(0) { $0 + $1.lag } }

    public var schedulingDelay: Duration? {
        processingStartTime.map { $0 - submissionTime }
    }

    public var processingDelay: Duration? {
        guard let start = processingStartTime, let end = processingEndTime else { return nil }
        return end - start
    }

    public var totalDelay: Duration? {
        processingEndTime.map { $0 - submissionTime }
    }
}
