import Logging
import Sluice
import SluiceKafka
import Synchronization

/// The first stage of every repartition of one input: each batch, for each
/// task this process holds, turns every record into its pairs, writes them
/// to the repartition topics — grouped by destination partition, each pair
/// with its upstream position — and waits until the cluster acknowledged
/// all of them (idempotent producer, acks=all), so that the input's offsets
/// are committed only for records whose pairs are durable.
final class RepartitionWriter: Sendable {
    /// One repartition of the input.
    struct Target: Sendable {
        let name: String
        let topic: RepartitionTopic
        let policy: DeadLetterPolicy
        /// The record's pairs, encoded.
        let encode: @Sendable (KafkaRecord) throws -> [(key: [UInt8], value: [UInt8])]
    }

    let bootstrapServers: String
    /// How the producer reaches the cluster (the job's consumer's).
    let security: KafkaSecurityOptions
    let logger: Logger
    private let targets = Mutex<[Target]>([])
    private let producer = Mutex<KafkaProducer?>(nil)

    init(bootstrapServers: String, security: KafkaSecurityOptions = KafkaSecurityOptions(), logger: Logger) {
        self.bootstrapServers = bootstrapServers
        self.security = security
        self.logger = logger
    }

    func add(_ target: Target) { targets.withLock { $0.append(target) } }

    private func connectedProducer() throws -> KafkaProducer {
        try producer.withLock { producer in
            if let producer { return producer }
            var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrapServers)
            configuration.clientID = "sluice-repartition"
            configuration.enableIdempotence = true
            configuration.compression = .lz4
            configuration.security = security
            let made = try KafkaProducer(configuration: configuration, logger: logger)
            producer = made
            return made
        }
    }

    /// Writes the pairs of every task's records; returns the records that
    /// could not be turned into pairs, as dead letters.
    func write(_ batches: [(task: TaskID, batch: Batch<KafkaRecord>)], time: Time) async throws -> [DeadLetter] {
        let targets = self.targets.withLock { $0 }
        let logger = self.logger
        let counts = try await KafkaBlocking.run { try targets.map { try $0.topic.ensure(logger: logger) } }
        let producer = try connectedProducer()
        var letters: [DeadLetter] = []
        var lettered = Set<Int64>()
        for (task, batch) in batches {
            var builders = [[Int32: RepartitionRecord.Builder]](repeating: [:], count: targets.count)
            lettered.removeAll()
            for record in batch.collect() {
                for (index, target) in targets.enumerated() {
                    let pairs: [(key: [UInt8], value: [UInt8])]
                    do {
                        pairs = try target.encode(record)
                    } catch {
                        if target.policy == .stop {
                            throw StreamingError(
                                code: .outputFailed,
                                message: "repartition '\(target.name)' cannot re-key \(record.topicPartition)@\(record.offset): \(error); "
                                    + "the job stopped before committing it")
                        }
                        if lettered.insert(record.offset).inserted {
                            letters.append(DeadLetter(
                                topic: record.topic, partition: record.partition, offset: record.offset,
                                error: "repartition '\(target.name)': \(error)", payload: Array(record.value)))
                        }
                        continue
                    }
                    for (position, pair) in pairs.enumerated() {
                        let destination = RepartitionRecord.partition(ofKey: pair.key, partitions: counts[index])
                        builders[index][destination, default: RepartitionRecord.Builder(upstream: task)].append(
                            position: RepartitionPosition(offset: record.offset, index: Int32(position)), key: pair.key, value: pair.value)
                    }
                }
            }
            for (index, target) in targets.enumerated() {
                for (destination, var builder) in builders[index].sorted(by: { $0.key < $1.key }) {
                    for message in builder.finish() {
                        let _: UInt = try producer.send(KafkaProducerMessage(topic: target.topic.name, partition: destination, value: message))
                    }
                }
            }
        }
        // Throws when any record was not acknowledged: the batch then fails
        // before its offsets are committed.
        try await producer.flush(timeout: .seconds(60))
        return letters
    }

    func close() {
        let open = producer.withLock { producer -> KafkaProducer? in
            defer { producer = nil }
            return producer
        }
        try? open?.close(timeout: .seconds(10))
    }
}
