import CRdKafka

/// Owns an `rd_kafka_topic_partition_list_t`.
final class RDKafkaTopicPartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    private let owned: Bool

    init(capacity: Int = 8) throws {
        guard let list = rd_kafka_topic_partition_list_new(Int32(clamping: max(1, capacity))) else {
            throw KafkaError(code: .fail, message: "librdkafka could not allocate a partition list")
        }
        pointer = list
        owned = true
    }

    /// Adopts a list returned by librdkafka that the caller must destroy.
    init(adopting list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        pointer = list
        owned = true
    }

    /// Borrows a list librdkafka keeps ownership of (callbacks).
    init(borrowing list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        pointer = list
        owned = false
    }

    convenience init(_ partitions: [KafkaTopicPartition]) throws {
        try self.init(capacity: partitions.count)
        for partition in partitions { add(partition, offset: nil) }
    }

    convenience init(_ offsets: [KafkaTopicPartition: Int64]) throws {
        try self.init(capacity: offsets.count)
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) { add(partition, offset: offset) }
    }

    func add(_ partition: KafkaTopicPartition, offset: Int64?) {
        guard let element = rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition) else { return }
        element.pointee.offset = offset ?? Int64(RD_KAFKA_OFFSET_INVALID)
    }

    var count: Int { Int(pointer.pointee.cnt) }

    /// Each element's topic/partition, offset and per-partition error.
    var elements: [(partition: KafkaTopicPartition, offset: Int64, error: rd_kafka_resp_err_t)] {
        guard let elems = pointer.pointee.elems else { return [] }
        return (0..<count).map { index in
            let element = elems[index]
            let topic = element.topic.map { String(cString: $0) } ?? ""
            return (KafkaTopicPartition(topic: topic, partition: element.partition), element.offset, element.err)
        }
    }

    var partitions: [KafkaTopicPartition] { elements.map(\.partition) }

    deinit {
        if owned { rd_kafka_topic_partition_list_destroy(pointer) }
    }
}
