/// A record to produce.
public struct KafkaProducerMessage: Sendable {
    public var topic: String
    /// The partition, or `nil` to let the partitioner choose by key
    /// (librdkafka's consistent-random: same key, same partition).
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; `nil` for the time of sending.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8],
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    /// A message with UTF-8 key and value.
    public init(topic: String, partition: Int32? = nil, key: String?, value: String, headers: [KafkaHeader] = []) {
        self.init(topic: topic, partition: partition, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers)
    }
}

/// The broker's answer for one produced record.
public struct KafkaDeliveryReport: Sendable {
    /// The id ``KafkaProducer/send(_:)`` returned for the record.
    public var id: UInt
    public var topic: String
    public var partition: Int32
    /// The record's offset; meaningful only when `error` is nil.
    public var offset: Int64
    /// Why the record was not delivered, or nil.
    public var error: KafkaError?
}
