import Logging
import Sluice
import SluiceKafka

extension DStream where Element == KafkaRecord {
    /// Re-keys a Kafka direct stream through an internal topic (Kafka
    /// Streams' repartition), so that a stateful operator after it keeps each
    /// key's state in one task and processes of the job share the work
    /// (DESIGN.md, "Scale-out").
    ///
    /// `rekey` turns each record into `(key, value)` pairs. They are written
    /// to `<group>-<name>-repartition`, to the partition of their key (a hash
    /// of its encoding, the same in every process), which the job creates at
    /// start with the input's partition count and lz4 if it does not exist.
    /// The returned stream reads that topic; its partitions are tasks.
    ///
    /// Exactly once across the topic, on any broker: the input's offsets are
    /// committed only after every pair written for them was acknowledged,
    /// each pair carries its record's position, and the reading side drops
    /// positions it already applied (state committed with its results), so
    /// pairs written again after a crash count once. This needs `rekey` to be
    /// deterministic: the same record must give the same pairs in the same
    /// order.
    ///
    /// The stream must come from `kafkaDirectStream` itself (no operator in
    /// between) and read one topic; the job needs an exactly-once output,
    /// with a store that keeps tasks (SQLite, PostgreSQL). A record `rekey`
    /// throws for becomes a dead letter with its position, or stops the job
    /// with `onBadRecord: .stop`.
    ///
    /// - Parameter name: names the topic and the state that drops replays
    ///   (`<name>.applied`); letters, digits, `.`, `_` and `-`.
    public func repartition<K: Hashable & Sendable & Codable, V: Sendable & Codable>(
        _ name: String,
        onBadRecord policy: DeadLetterPolicy = .deadLetter,
        _ rekey: @escaping @Sendable (KafkaRecord) throws -> [(K, V)]
    ) throws -> DStream<(K, V)> {
        guard let upstream = KafkaInputRegistry.source(of: self) else {
            throw StreamingError(
                code: .invalidArgument,
                message: "repartition '\(name)' needs the stream kafkaDirectStream returned, before any operator: it commits that input's offsets")
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw StreamingError(code: .invalidArgument, message: "repartition name '\(name)' must be letters, digits, '.', '_' or '-'")
        }
        let configuration = upstream.configuration
        let input: String
        let assignsAll: Bool
        switch configuration.subscription {
        case .topics(let topics) where topics.count == 1:
            input = topics[0]
            assignsAll = false
        case .partitions(let partitions) where Set(partitions.map(\.topic)).count == 1:
            input = partitions[0].topic
            assignsAll = true
        default:
            throw StreamingError(
                code: .invalidArgument,
                message: "repartition '\(name)' reads one topic; its stream subscribes to \(configuration.subscription)")
        }
        let topicName = "\(configuration.groupID)-\(name)-repartition"
        // The repartition topic's clients reach the cluster as the job's consumer does.
        let topic = RepartitionTopic(name: topicName, input: input, bootstrapServers: configuration.bootstrapServers,
                                     security: configuration.consumer.security)
        let codec = StateCodec<K, V>()
        let writer = try KafkaInputRegistry.writer(of: self) {
            let writer = RepartitionWriter(bootstrapServers: configuration.bootstrapServers, security: configuration.consumer.security,
                                           logger: Logger(label: "sluice.kafka.repartition"))
            try foreachTaskBatch(name: "repartition(\(input))") { batches, time in
                try await writer.write(batches, time: time)
            }
            return writer
        }
        writer.add(RepartitionWriter.Target(name: name, topic: topic, policy: policy) { record in
            try rekey(record).map { (key: try codec.encodeKey($0.0), value: try codec.encodeValue($0.1)) }
        })

        var second = KafkaSourceConfiguration(bootstrapServers: configuration.bootstrapServers, subscription: .topics([topicName]), groupID: topicName)
        second.consumer = configuration.consumer
        second.startingPosition = .earliest
        second.partitionsAreTasks = true
        second.readTimeout = configuration.readTimeout
        second.maxBufferedRecordsPerPartition = configuration.maxBufferedRecordsPerPartition
        let records = makeInputStream(RepartitionSource(topic: topic, configuration: second, assignsAll: assignsAll))
        let entries = records.mapOrDeadLetter(
            locate: { DeadLetterPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset, payload: Array($0.value)) },
            policy: .stop
        ) { try RepartitionRecord.entries(of: $0) }
        return entries
            .flatMap { $0 }
            .droppingReplays(name: "\(name).applied", source: { $0.upstream }, position: { $0.position })
            .mapOrDeadLetter(
                locate: { DeadLetterPosition(topic: $0.upstream.topic, partition: $0.upstream.partition, offset: $0.position.offset, payload: $0.value) },
                policy: .stop
            ) { (try codec.decodeKey($0.key), try codec.decodeValue($0.value)) }
    }
}
