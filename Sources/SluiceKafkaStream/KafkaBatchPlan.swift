import Sluice

/// The plan of one batch of a Kafka direct stream: one offset range per
/// partition, decided before the batch runs.
public struct KafkaBatchPlan: InputPlan {
    public var offsetRanges: [OffsetRange]
    public var partitionLag: [PartitionLag]

    /// The offsets the batch spans, as Spark's direct stream reports a
    /// batch's records (transaction markers and aborted records included):
    /// its partitions are still arriving when the batch starts.
    public var recordCount: Int? { offsetRanges.reduce(0) { $0 + Int($1.count) } }

    public init(offsetRanges: [OffsetRange], partitionLag: [PartitionLag]) {
        self.offsetRanges = offsetRanges
        self.partitionLag = partitionLag
    }
}
