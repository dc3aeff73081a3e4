import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// The typed configurations translate into the librdkafka properties they
/// document, `additionalProperties` win, and librdkafka accepts them all.
final class ConfigurationTests: XCTestCase {
    /// The effective value of each property: the last one applied wins, as
    /// in librdkafka.
    private func effective(_ properties: [(name: String, value: String)]) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in properties { result[name] = value }
        return result
    }

    func testConsumerDefaultsTranslateToTheDocumentedProperties() {
        let configuration = KafkaConsumerConfiguration(bootstrapServers: "a:1,b:2", groupID: "views")
        let properties = effective(configuration.librdkafkaProperties)
        let expected: [String: String] = [
            "bootstrap.servers": "a:1,b:2",
            "group.id": "views",
            "client.id": "sluice",
            "auto.offset.reset": "latest",
            "isolation.level": "read_committed",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "session.timeout.ms": "45000",
            "heartbeat.interval.ms": "3000",
            "max.poll.interval.ms": "300000",
            "fetch.min.bytes": "1",
            "fetch.max.bytes": "52428800",
            "max.partition.fetch.bytes": "1048576",
            "fetch.wait.max.ms": "500",
            "queued.min.messages": "1000000",
            "partition.assignment.strategy": "range,roundrobin",
            "reconnect.backoff.ms": "100",
            "reconnect.backoff.max.ms": "10000",
            "security.protocol": "plaintext",
        ]
        XCTAssertEqual(properties, expected)
    }

    func testConsumerOptionsTranslateToTheirProperties() {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: "h:9")
        configuration.clientID = "job-7"
        configuration.autoOffsetReset = .earliest
        configuration.isolationLevel = .readUncommitted
        configuration.enableAutoCommit = true
        configuration.session.timeout = .milliseconds(6_500)
        configuration.session.heartbeatInterval = .milliseconds(499)
        configuration.fetch.maxWait = .microseconds(1_999)  // rounds down to whole milliseconds
        configuration.fetch.queuedMinMessages = 5
        configuration.partitionAssignmentStrategy = [.cooperativeSticky]
        configuration.reconnect.maxBackoff = .seconds(1)
        let properties = effective(configuration.librdkafkaProperties)
        XCTAssertEqual(properties["client.id"], "job-7")
        XCTAssertEqual(properties["auto.offset.reset"], "earliest")
        XCTAssertEqual(properties["isolation.level"], "read_uncommitted")
        XCTAssertEqual(properties["enable.auto.commit"], "true")
        XCTAssertEqual(properties["session.timeout.ms"], "6500")
        XCTAssertEqual(properties["heartbeat.interval.ms"], "499")
        XCTAssertEqual(properties["fetch.wait.max.ms"], "1")
        XCTAssertEqual(properties["queued.min.messages"], "5")
        XCTAssertEqual(properties["partition.assignment.strategy"], "cooperative-sticky")
        XCTAssertEqual(properties["reconnect.backoff.max.ms"], "1000")
        // Without a group, assign still needs a group id: a private one.
        XCTAssertEqual(properties["group.id"]?.hasPrefix("sluice-unjoined-"), true)
    }

    func testProducerDefaultsAndOptionsTranslateToTheirProperties() {
        let plain = effective(KafkaProducerConfiguration(bootstrapServers: "h:9").librdkafkaProperties)
        XCTAssertEqual(plain["enable.idempotence"], "true")
        XCTAssertEqual(plain["compression.codec"], "none")
        XCTAssertEqual(plain["linger.ms"], "5")
        XCTAssertEqual(plain["message.timeout.ms"], "300000")
        XCTAssertEqual(plain["queue.buffering.max.messages"], "100000")
        XCTAssertNil(plain["transactional.id"])
        XCTAssertNil(plain["transaction.timeout.ms"])

        var configuration = KafkaProducerConfiguration(bootstrapServers: "h:9", transactionalID: "job-7")
        configuration.enableIdempotence = false  // implied by the transactional id anyway
        configuration.compression = .lz4
        configuration.transactionTimeout = .seconds(20)
        let transactional = effective(configuration.librdkafkaProperties)
        XCTAssertEqual(transactional["transactional.id"], "job-7")
        XCTAssertEqual(transactional["transaction.timeout.ms"], "20000")
        XCTAssertEqual(transactional["enable.idempotence"], "true")
        XCTAssertEqual(transactional["compression.codec"], "lz4")
        XCTAssertEqual(transactional["message.timeout.ms"], "20000", "capped at the transaction timeout, as librdkafka requires")
    }

    /// additionalProperties come last, so they override the typed options.
    func testAdditionalPropertiesOverrideTypedOptions() {
        var consumer = KafkaConsumerConfiguration(bootstrapServers: "h:9")
        consumer.session.timeout = .seconds(6)
        consumer.additionalProperties = ["session.timeout.ms": "7000", "statistics.interval.ms": "0"]
        let consumerProperties = consumer.librdkafkaProperties
        XCTAssertEqual(effective(consumerProperties)["session.timeout.ms"], "7000")
        XCTAssertEqual(effective(consumerProperties)["statistics.interval.ms"], "0")
        XCTAssertEqual(consumerProperties.last?.name, "statistics.interval.ms", "applied after the typed options, sorted")

        var producer = KafkaProducerConfiguration(bootstrapServers: "h:9")
        producer.additionalProperties = ["linger.ms": "50", "acks": "1"]
        XCTAssertEqual(effective(producer.librdkafkaProperties)["linger.ms"], "50")
        XCTAssertEqual(effective(producer.librdkafkaProperties)["acks"], "1")
    }

    /// The override reaches librdkafka: the typed option says "latest", the
    /// pass-through "earliest", and the consumer reads from the beginning.
    func testOverrideTakesEffectInTheClient() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        try KafkaTestSupport.produce(10, to: "t", partitions: 1, bootstrap: cluster.bootstrapServers)
        var configuration = KafkaTestEnvironment.consumerConfiguration(
            bootstrap: cluster.bootstrapServers, groupID: KafkaTestEnvironment.uniqueName("override"), from: .latest)
        configuration.additionalProperties["auto.offset.reset"] = "earliest"
        let consumer = try KafkaConsumer(configuration: configuration)
        defer { try? consumer.close() }
        try consumer.assign([KafkaTopicPartition(topic: "t", partition: 0): .committed])
        let records = try KafkaTestSupport.consume(consumer, count: 10, timeout: .seconds(10))
        XCTAssertEqual(records.map(\.offset), Array(0..<10))
    }

    /// Every value the typed options can produce is one librdkafka accepts.
    func testEveryTypedOptionValueIsAcceptedByLibrdkafka() throws {
        for compression in KafkaCompression.allCases {
            var configuration = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:1", transactionalID: "t")
            configuration.compression = compression
            XCTAssertNoThrow(try KafkaProducer(configuration: configuration).close(timeout: .zero), "\(compression)")
        }
        for (reset, isolation) in zip(KafkaAutoOffsetReset.allCases, KafkaIsolationLevel.allCases + [.readCommitted]) {
            for strategy in KafkaPartitionAssignmentStrategy.allCases {
                var configuration = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:1", groupID: "g")
                configuration.autoOffsetReset = reset
                configuration.isolationLevel = isolation
                configuration.partitionAssignmentStrategy = [strategy]
                XCTAssertNoThrow(try KafkaConsumer(configuration: configuration).close(), "\(reset) \(isolation) \(strategy)")
            }
        }
    }
}
