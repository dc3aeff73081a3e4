import Foundation
import Sluice
import SluiceKafka
import SluiceKafkaStream
import SluiceTesting
import Synchronization
import XCTest

/// A mock cluster with one topic filled with `count` records whose values
/// name their index, and helpers to collect what a direct stream reads.
struct KafkaStreamFixture {
    let cluster: MockCluster
    let topic: String
    let partitions: Int32

    init(partitions: Int32 = 4, count: Int, brokers: Int = 1) throws {
        cluster = try MockCluster(brokers: brokers)
        topic = KafkaTestEnvironment.uniqueName("stream")
        self.partitions = partitions
        try cluster.createTopic(topic, partitions: partitions)
        try produce(count: count, startingAt: 0)
    }

    var bootstrap: String { cluster.bootstrapServers }

    var allPartitions: [KafkaTopicPartition] {
        (0..<partitions).map { KafkaTopicPartition(topic: topic, partition: $0) }
    }

    /// Produces records `value-<i>` round-robin over the partitions and waits for delivery.
    func produce(count: Int, startingAt first: Int) throws {
        guard count > 0 else { return }
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: bootstrap))
        for index in first..<(first + count) {
            try producer.send(KafkaProducerMessage(
                topic: topic, partition: Int32(index % Int(partitions)), key: "k\(index)", value: "value-\(index)"))
        }
        try producer.flush(timeout: .seconds(60))
        try producer.close()
    }

    func sourceConfiguration(group: String = KafkaTestEnvironment.uniqueName("group")) -> KafkaSourceConfiguration {
        var configuration = KafkaSourceConfiguration(
            bootstrapServers: bootstrap, subscription: .partitions(allPartitions), groupID: group)
        configuration.startingPosition = .earliest
        configuration.readTimeout = .seconds(20)
        configuration.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: bootstrap, groupID: group)
        return configuration
    }
}

/// What each batch of a stream held, as seen by `foreachBatch`.
final class BatchCollector: Sendable {
    struct Seen: Sendable {
        var time: Time
        var ranges: [OffsetRange]
        var records: [KafkaRecord]
    }

    private let seen = Mutex<[Seen]>([])

    func attach(_ stream: DStream<KafkaRecord>) throws {
        try stream.foreachBatch { [self] batch, time, ranges in
            let records = batch.collect()
            seen.withLock { $0.append(Seen(time: time, ranges: ranges, records: records)) }
        }
    }

    var batches: [Seen] { seen.withLock { $0 } }
    var recordCount: Int { batches.reduce(0) { $0 + $1.records.count } }
}
