import Sluice

/// The plan of one batch of a Kafka direct stream: one offset range per
/// partition, decided before the batch runs.
public struct KafkaBatchPlan: InputPlan {
    public var offsetRanges: [OffsetRange]
    public var partitionLag: [PartitionLag]

    public init(offsetRanges: [OffsetRange], partitionLag: [PartitionLag]) {
        self.offsetRanges = offsetRanges
        self.partitionLag = partitionLag
    }
}
