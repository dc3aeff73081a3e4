/// One partition of one topic.
public struct KafkaTopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    /// `topic[partition]`, as in error messages and logs.
    public var description: String { "\(topic)[\(partition)]" }
}

/// Where a consumer should start reading a partition.
public enum KafkaStartOffset: Hashable, Sendable {
    /// The first record still in the log.
    case beginning
    /// The end of the log, as the consumer looks it up shortly after the
    /// assignment (asynchronously): records produced before the assignment
    /// are skipped; one produced while the lookup is in flight may be too.
    case end
    /// The group's committed offset (falling back to `auto.offset.reset`).
    case committed
    /// An explicit offset: the offset of the next record to read.
    case offset(Int64)
}

/// The low and high watermark of a partition: `[low, high)` holds the records
/// still in the log; `high` is the offset the next record will get.
public struct KafkaWatermarks: Hashable, Sendable {
    public var low: Int64
    public var high: Int64
    public init(low: Int64, high: Int64) {
        self.low = low
        self.high = high
    }
}

extension Dictionary where Key == KafkaTopicPartition, Value == Int64 {
    /// `orders[0]@42, orders[1]@7`, sorted, for error messages and logs.
    var offsetsDescription: String {
        sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ", ")
    }
}
