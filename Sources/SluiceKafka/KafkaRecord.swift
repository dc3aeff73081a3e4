/// A record read from Kafka.
///
/// Key and value are copied once out of librdkafka's buffers: the records of
/// one poll share one array and each holds a slice of it (indices start
/// where the slice starts, not at 0; iterate, or use `withUnsafeBytes`).
/// A record kept long after the others of its poll keeps that whole array
/// alive; copy it with `Array(record.value)` to keep only its own bytes.
public struct KafkaRecord: Sendable {
    // The key is declared after the value, so the memberwise initializer
    // Swift synthesizes (value before key) differs from the public one
    // below, which calls it: an initializer written out by hand, with its
    // `self` assigned field by field, made the optimizer copy the finished
    // record and destroy the original (a retain and a release of each of its
    // references, through value witnesses) because of the optional slice.
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The record's timestamp, with its kind; `nil` when the broker gave none.
    public var timestamp: KafkaTimestamp?
    /// The value bytes (empty for a null value).
    public var value: ArraySlice<UInt8>
    /// The key bytes; `nil` for a record without a key.
    public var key: ArraySlice<UInt8>?
    /// Headers in the order they were written; names may repeat.
    public var headers: [KafkaHeader]
}

extension KafkaRecord {
    public init(
        topic: String, partition: Int32, offset: Int64, timestamp: KafkaTimestamp? = nil,
        key: ArraySlice<UInt8>? = nil, value: ArraySlice<UInt8>, headers: [KafkaHeader] = []
    ) {
        self.init(topic: topic, partition: partition, offset: offset, timestamp: timestamp,
                  value: value, key: key, headers: headers)
    }

    /// A record with bytes of its own (tests, examples).
    public init(
        topic: String, partition: Int32, offset: Int64, timestamp: KafkaTimestamp? = nil,
        key: [UInt8]? = nil, value: [UInt8], headers: [KafkaHeader] = []
    ) {
        self.init(topic: topic, partition: partition, offset: offset, timestamp: timestamp,
                  value: value[...], key: key.map { $0[...] }, headers: headers)
    }

    /// The record's topic and partition.
    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The value decoded as UTF-8, or `nil` when it is not valid UTF-8.
    public var valueString: String? { String(validating: value, as: UTF8.self) }

    /// The key decoded as UTF-8, or `nil` when absent or not valid UTF-8.
    public var keyString: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }
}

/// A record header: a name and optional bytes.
public struct KafkaHeader: Hashable, Sendable {
    public var name: String
    public var value: [UInt8]?
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
    public init(name: String, string: String) {
        self.init(name: name, value: Array(string.utf8))
    }
}

/// A record timestamp in milliseconds since the epoch and what it means.
public struct KafkaTimestamp: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Set by the producer.
        case createTime
        /// Set by the broker when it appended the record.
        case logAppendTime
    }
    public var milliseconds: Int64
    public var kind: Kind
    public init(milliseconds: Int64, kind: Kind = .createTime) {
        self.milliseconds = milliseconds
        self.kind = kind
    }
}
