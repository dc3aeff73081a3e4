/// Something that happened to a consumer outside a call: a rebalance, the
/// result of an asynchronous commit, or an error librdkafka reported.
public enum KafkaConsumerEvent: Sendable {
    /// The group gave this consumer these partitions (already assigned).
    /// With the eager strategies (range, round-robin) this is the whole new
    /// assignment; with cooperative-sticky only the partitions added, which
    /// may be none (`[]`) after a rebalance that only took some away.
    case assigned([KafkaTopicPartition])
    /// These partitions are being taken away (eager strategies: all of
    /// them; cooperative-sticky: only those that move). The consumer still
    /// owns them while the `onEvent` handler runs; with cooperative-sticky it
    /// can commit what it finished there (an eager rebalance refuses commits
    /// with `REBALANCE_IN_PROGRESS`). Even then the commit can race the next
    /// rebalance round and fail with a retriable `REBALANCE_IN_PROGRESS`;
    /// the new owner then resumes at the previous commit (at-least-once),
    /// so keep authoritative offsets with the results, as Sluice's sinks do.
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
