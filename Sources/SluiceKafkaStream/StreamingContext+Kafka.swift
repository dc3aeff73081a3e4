import Sluice
import SluiceKafka

extension StreamingContext {
    /// A Kafka direct stream: each batch reads the offset ranges planned for
    /// it, one batch partition per Kafka partition. Configuration errors
    /// (unknown topic, unreachable brokers, bad settings) fail the start.
    ///
    /// ```swift
    /// let stream = ssc.kafkaDirectStream(
    ///     KafkaSourceConfiguration(bootstrapServers: "localhost:9092", topics: ["page-views"], groupID: "views"))
    /// ```
    public func kafkaDirectStream(_ configuration: KafkaSourceConfiguration) -> DStream<KafkaRecord> {
        kafkaDirectStream(KafkaDirectSource(configuration: configuration))
    }

    /// The direct stream of a source you keep (to call ``KafkaDirectSource/resume(from:)``).
    public func kafkaDirectStream(_ source: KafkaDirectSource) -> DStream<KafkaRecord> {
        addListener(GroupOffsetCommitter(source: source))
        let stream = inputStream(source)
        KafkaInputRegistry.remember(stream, source: source)
        return stream
    }
}

/// Commits each completed batch's until-offsets to the stream's group, for
/// lag monitoring.
struct GroupOffsetCommitter: StreamingListener {
    let source: KafkaDirectSource

    func batchCompleted(_ info: BatchInfo) {
        guard let id = source.inputID else { return }
        let ranges = info.inputs.filter { $0.inputID == id }.flatMap(\.offsetRanges)
        source.commitToGroup(ranges)
    }
}
