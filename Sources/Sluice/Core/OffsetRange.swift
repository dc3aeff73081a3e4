/// The half-open range `[from, until)` of offsets of one topic partition that
/// a batch reads (Spark's `OffsetRange`). Plain data: the Kafka direct
/// stream plans one per partition before the batch runs, and output
/// operations receive them with the batch.
public struct OffsetRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    /// First offset in the batch.
    public var from: Int64
    /// One past the last offset in the batch.
    public var until: Int64

    public init(topic: String, partition: Int32, from: Int64, until: Int64) {
        self.topic = topic
        self.partition = partition
        self.from = from
        self.until = until
    }

    /// Number of offsets in the range (0 when empty).
    public var count: Int64 { max(0, until - from) }

    /// The offset to commit once this range is fully processed: `until`.
    /// The one place where "last offset + 1" is spelled.
    public var nextOffsetToCommit: Int64 { until }

    public var description: String { "\(topic)-\(partition) [\(from), \(until))" }
}

/// How far a source partition is behind the end of its log, as reported by
/// the source when it plans a batch.
public struct PartitionLag: Hashable, Sendable, Codable {
    public var topic: String
    public var partition: Int32
    /// Records between the batch's `until` and the end of the log.
    public var lag: Int64

    public init(topic: String, partition: Int32, lag: Int64) {
        self.topic = topic
        self.partition = partition
        self.lag = lag
    }
}
