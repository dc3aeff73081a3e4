/// Something that happened to a consumer outside a call: a rebalance, the
/// result of an asynchronous commit, or an error librdkafka reported.
public enum KafkaConsumerEvent: Sendable {
    /// The group gave this consumer these partitions (already assigned).
    case assigned([KafkaTopicPartition])
    /// These partitions are being taken away; the consumer still owns them
    /// while the handler runs, so it can commit what it finished.
    case revoked([KafkaTopicPartition])
    /// These partitions were lost (session expired): another member may
    /// already own them, so do not commit for them.
    case lost([KafkaTopicPartition])
    /// A commit finished: the offsets sent, and the error if any. Sent for
    /// ``KafkaConsumer/commitAsync(_:)`` and also, by librdkafka, for the
    /// synchronous ``KafkaConsumer/commit(_:)`` (which throws as well).
    case committed([KafkaTopicPartition: Int64], KafkaError?)
    /// An error librdkafka reported in the background (often retriable).
    case error(KafkaError)
}
