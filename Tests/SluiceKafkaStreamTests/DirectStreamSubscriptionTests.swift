import Foundation
import Sluice
import SluiceKafka
@testable import SluiceKafkaStream
import SluiceTesting
import XCTest

/// Group subscriptions of the direct stream: partitions come from the
/// group, and topics created later that match a pattern are picked up.
final class DirectStreamSubscriptionTests: XCTestCase {
    private func produce(_ count: Int, to topic: String, bootstrap: String) throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: bootstrap))
        for index in 0..<count {
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index % 2), key: nil, value: "\(topic)-\(index)"))
        }
        try producer.flush()
        try producer.close()
    }

    /// Runs one batch at a time until `condition` holds on what was read
    /// (bounded in real time). After an empty batch it waits for the fetch
    /// thread to hold records (the group protocol and the metadata refresh
    /// run in real time) instead of planning empty batches meanwhile.
    private func runUntil(_ driver: StreamTestDriver, _ source: KafkaDirectSource, _ collector: BatchCollector,
                          within limit: Duration, _ condition: ([KafkaRecord]) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            try await driver.runBatches(1)
            if condition(collector.batches.flatMap(\.records)) { return true }
            if collector.batches.last?.records.isEmpty == true {
                _ = await source.waitForFetchedRecords(timeout: deadline - ContinuousClock.now)
            }
        }
        return false
    }

    func testAPatternSubscriptionPicksUpTopicsCreatedLater() async throws {
        let cluster = try MockCluster(brokers: 1)
        let prefix = KafkaTestEnvironment.uniqueName("ev")
        try cluster.createTopic("\(prefix)-a", partitions: 2)
        try produce(20, to: "\(prefix)-a", bootstrap: cluster.bootstrapServers)

        var configuration = KafkaSourceConfiguration(
            bootstrapServers: cluster.bootstrapServers, subscription: .pattern("^\(prefix)-.*"), groupID: KafkaTestEnvironment.uniqueName("g"))
        configuration.startingPosition = .earliest
        configuration.partitionDiscoveryInterval = .seconds(1)
        configuration.consumer = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: configuration.groupID)
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let collector = BatchCollector()
        let source = KafkaDirectSource(configuration: configuration)
        try collector.attach(driver.context.kafkaDirectStream(source))
        try driver.start()

        let first = try await runUntil(driver, source, collector, within: .seconds(30)) { $0.filter { $0.topic == "\(prefix)-a" }.count == 20 }
        XCTAssertTrue(first, "the existing topic's 20 records arrive once the group assigns it")

        try cluster.createTopic("\(prefix)-b", partitions: 2)
        try produce(10, to: "\(prefix)-b", bootstrap: cluster.bootstrapServers)
        let second = try await runUntil(driver, source, collector, within: .seconds(45)) { $0.filter { $0.topic == "\(prefix)-b" }.count == 10 }
        await driver.stop()
        XCTAssertTrue(second, "records of the topic created later arrive")

        let values = collector.batches.flatMap(\.records).compactMap(\.valueString)
        XCTAssertEqual(values.count, Set(values).count, "nothing read twice")
        XCTAssertEqual(values.count, 30)
    }

    /// Writes 5 aborted, 5 committed and 5 still-open transactional records.
    private func writeAbortedCommittedAndOpen(topic: String, bootstrap: String) throws -> KafkaProducer {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrap, transactionalID: KafkaTestEnvironment.uniqueName("tx"))
        producerConfiguration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: producerConfiguration)
        try producer.initTransactions()
        for (kind, end) in [("aborted", "abort"), ("committed", "commit"), ("open", "")] {
            try producer.beginTransaction()
            for index in 0..<5 { try producer.send(KafkaProducerMessage(topic: topic, partition: 0, key: nil, value: "\(kind)-\(index)")) }
            if end == "abort" { try producer.abortTransaction() }
            if end == "commit" { try producer.commitTransaction() }
        }
        try producer.flush()
        return producer
    }

    /// read_committed: a batch never reads past the last stable offset, so an
    /// open transaction's records wait and an aborted one's never appear.
    /// Needs a broker that implements transactions.
    func testReadCommittedStopsAtTheLastStableOffset() async throws {
        guard let bootstrap = KafkaTestEnvironment.realBrokerBootstrap else {
            throw XCTSkip("needs a real Kafka broker (KAFKA_BOOTSTRAP_SERVERS): the mock cluster does not emulate transactions, so it has no last stable offset")
        }
        let topic = KafkaTestEnvironment.uniqueName("lso")
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        try admin.createTopic(topic, partitions: 1)
        let producer = try writeAbortedCommittedAndOpen(topic: topic, bootstrap: bootstrap)
        var configuration = KafkaSourceConfiguration(
            bootstrapServers: bootstrap, subscription: .partitions([KafkaTopicPartition(topic: topic, partition: 0)]), groupID: "lso")
        configuration.startingPosition = .earliest
        let driver = try StreamTestDriver(batchInterval: .seconds(1), timeout: .seconds(30))
        let collector = BatchCollector()
        try collector.attach(driver.context.kafkaDirectStream(configuration))
        try driver.start()
        try await driver.runBatches(2)
        XCTAssertEqual(collector.batches.flatMap(\.records).compactMap(\.valueString), (0..<5).map { "committed-\($0)" })
        try producer.commitTransaction()
        try await driver.runBatches(2)
        await driver.stop()
        XCTAssertEqual(collector.batches.flatMap(\.records).compactMap(\.valueString).filter { $0.hasPrefix("open") }.count, 5)
        try producer.close()
    }
}
