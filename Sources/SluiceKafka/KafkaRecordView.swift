import CRdKafka

/// A record read in place, in librdkafka's buffers, by
/// ``KafkaConsumer/pollEach(maxRecords:timeout:_:)``: nothing is copied and
/// nothing is allocated for it.
///
/// **Lifetime.** A view and the buffers it lends (``key``, ``value``) are
/// valid only during the call of `pollEach`'s body that receives it: the
/// message is destroyed when the body returns. Do not keep the buffers or
/// pointers into them; copy what must outlive the call
/// (`Array(view.value)`, or ``KafkaRecord/init(copying:)``). The view is
/// `~Copyable` so that the view itself cannot be stored (Swift 6.3 has no
/// `~Escapable` view without experimental lifetime features, which would
/// also keep its buffers in).
public struct KafkaRecordView: ~Copyable {
    /// The topic's name (shared by the records of a topic, not built per record).
    public var topic: String { topicName.pointee }
    public let partition: Int32
    public let offset: Int64
    /// The key bytes; `nil` for a record without a key.
    public let key: UnsafeRawBufferPointer?
    /// The value bytes (empty for a null value).
    public let value: UnsafeRawBufferPointer
    /// The name of the topic of the records being lent, held by the poll:
    /// a String field would make the view a type to destroy, a call per
    /// record (8% of the polling thread's samples in one perf run of the
    /// consume benchmark, a small sample); pointers need no destroy.
    let topicName: UnsafePointer<String>
    /// The message, for its timestamp and headers; valid during the body call.
    let message: UnsafeMutablePointer<rd_kafka_message_t>
    /// `KafkaConsumerConfiguration.readsHeaders` of the consumer.
    let readsHeaders: Bool

    @inline(__always)
    init(message: UnsafeMutablePointer<rd_kafka_message_t>, topicName: UnsafePointer<String>, readsHeaders: Bool) {
        let m = message.pointee
        self.topicName = topicName
        self.partition = m.partition
        self.offset = m.offset
        self.key = m.key.map { UnsafeRawBufferPointer(start: $0, count: m.key_len) }
        self.value = UnsafeRawBufferPointer(start: m.payload, count: m.payload == nil ? 0 : m.len)
        self.message = message
        self.readsHeaders = readsHeaders
    }

    /// The record's topic and partition.
    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The record's timestamp, with its kind; `nil` when the broker gave none.
    public var timestamp: KafkaTimestamp? {
        let (milliseconds, kind) = RDKafkaRecordDecoder.timestamp(of: message)
        return switch kind {
        case .none: nil
        case .createTime: KafkaTimestamp(milliseconds: milliseconds, kind: .createTime)
        case .logAppendTime: KafkaTimestamp(milliseconds: milliseconds, kind: .logAppendTime)
        }
    }

    /// Headers in the order they were written, parsed (and copied) when
    /// asked; always empty when the consumer's `readsHeaders` is off, as in
    /// ``KafkaConsumer/pollBatch(maxRecords:timeout:)``.
    public var headers: [KafkaHeader] {
        readsHeaders ? RDKafkaRecordDecoder.headers(of: message) : []
    }
}

extension KafkaRecord {
    /// The record a view lends, with its key and value copied into arrays of
    /// their own: what ``KafkaConsumer/pollBatch(maxRecords:timeout:)``
    /// returns for the same message.
    public init(copying view: borrowing KafkaRecordView) {
        self.init(topic: view.topic, partition: view.partition, offset: view.offset, timestamp: view.timestamp,
                  value: Array(view.value)[...], key: view.key.map { Array($0)[...] }, headers: view.headers)
    }
}
