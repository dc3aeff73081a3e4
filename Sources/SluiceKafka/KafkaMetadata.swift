/// What the cluster said about its brokers and topics.
public struct KafkaClusterMetadata: Sendable {
    public var brokers: [KafkaBrokerMetadata]
    public var topics: [KafkaTopicMetadata]

    public init(brokers: [KafkaBrokerMetadata], topics: [KafkaTopicMetadata]) {
        self.brokers = brokers
        self.topics = topics
    }
}

/// One broker's id and address.
public struct KafkaBrokerMetadata: Hashable, Sendable {
    public var id: Int32
    public var host: String
    public var port: Int
}

/// One topic's partitions, or the error the cluster gave for it.
public struct KafkaTopicMetadata: Hashable, Sendable {
    public var name: String
    public var partitions: [KafkaPartitionMetadata]
    /// Set when the cluster does not know the topic (`unknownTopicOrPartition`).
    public var error: KafkaError.Code?
}

/// One partition's leader and replicas.
public struct KafkaPartitionMetadata: Hashable, Sendable {
    public var id: Int32
    public var leader: Int32
    public var replicas: [Int32]
    public var inSyncReplicas: [Int32]
    public var error: KafkaError.Code?
}
