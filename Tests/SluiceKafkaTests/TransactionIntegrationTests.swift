import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// Transactional guarantees the mock cluster does not emulate, checked
/// against a real broker. They run only when `KAFKA_BOOTSTRAP_SERVERS` names
/// one (`docker compose -f Docker/compose.yaml up -d`, then
/// `KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092 make test`) and skip otherwise.
final class TransactionIntegrationTests: XCTestCase {
    private var bootstrap = ""
    private var admin: KafkaAdmin?
    private var topic = ""

    override func setUpWithError() throws {
        guard let bootstrap = KafkaTestEnvironment.realBrokerBootstrap else {
            throw XCTSkip(
                "needs a real Kafka broker: librdkafka's mock cluster accepts transactional calls but does not "
                    + "hide aborted records, store transactional offsets or fence producers. Start one with "
                    + "`docker compose -f Docker/compose.yaml up -d` and set KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092")
        }
        self.bootstrap = bootstrap
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        topic = KafkaTestEnvironment.uniqueName("sluice-txn-it")
        try admin.createTopic(topic, partitions: 1)
        self.admin = admin
    }

    override func tearDown() {
        if let admin, !topic.isEmpty { try? admin.deleteTopic(topic) }
        admin = nil
    }

    private func producer(transactionalID: String) throws -> KafkaProducer {
        var configuration = KafkaTestEnvironment.producerConfiguration(bootstrap: bootstrap)
        configuration.transactionalID = transactionalID
        configuration.transactionTimeout = .seconds(20)
        return try KafkaProducer(configuration: configuration)
    }

    private func values(isolation: KafkaIsolationLevel, expecting minimum: Int) throws -> [String] {
        var configuration = KafkaTestEnvironment.consumerConfiguration(bootstrap: bootstrap)
        configuration.isolationLevel = isolation
        let consumer = try KafkaConsumer(configuration: configuration)
        defer { try? consumer.close() }
        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning])
        var records = try KafkaTestSupport.consume(consumer, count: minimum, timeout: .seconds(20))
        // Anything beyond what is expected would show up now.
        records += try consumer.poll(maxRecords: 1_000, timeout: .seconds(1))
        return records.compactMap(\.valueString)
    }

    private func message(_ value: String) -> KafkaProducerMessage {
        KafkaProducerMessage(topic: topic, partition: 0, key: nil, value: value)
    }

    /// Records of an aborted transaction reach the log but read_committed
    /// consumers never see them; read_uncommitted consumers do.
    func testAbortedRecordsAreInvisibleToReadCommittedConsumers() throws {
        let producer = try producer(transactionalID: KafkaTestEnvironment.uniqueName("it-abort"))
        defer { try? producer.close() }
        try producer.initTransactions()
        try producer.beginTransaction()
        try producer.send(message("committed-1"))
        try producer.commitTransaction()
        try producer.beginTransaction()
        try producer.send(message("aborted-1"))
        try producer.send(message("aborted-2"))
        try producer.flush()  // written to the log before the abort, not purged
        try producer.abortTransaction()
        try producer.beginTransaction()
        try producer.send(message("committed-2"))
        try producer.commitTransaction()

        XCTAssertEqual(try values(isolation: .readUncommitted, expecting: 4), ["committed-1", "aborted-1", "aborted-2", "committed-2"])
        XCTAssertEqual(try values(isolation: .readCommitted, expecting: 2), ["committed-1", "committed-2"])
    }

    /// Offsets sent to a transaction are stored for the group only when the
    /// transaction commits.
    func testOffsetsSentToATransactionAreStoredOnlyOnCommit() throws {
        let group = KafkaTestEnvironment.uniqueName("it-offsets")
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let producer = try producer(transactionalID: KafkaTestEnvironment.uniqueName("it-offsets"))
        defer { try? producer.close() }
        let metadata = try KafkaConsumerGroupMetadata(groupID: group)
        let reader = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: bootstrap, groupID: group))
        defer { try? reader.close() }

        try producer.initTransactions()
        try producer.beginTransaction()
        try producer.send(message("with offsets 5"))
        try producer.sendOffsetsToTransaction([partition: 5], groupMetadata: metadata)
        try producer.abortTransaction()
        XCTAssertEqual(try reader.committed([partition]), [partition: nil], "aborted offsets must not be stored")

        try producer.beginTransaction()
        try producer.send(message("with offsets 7"))
        try producer.sendOffsetsToTransaction([partition: 7], groupMetadata: metadata)
        try producer.commitTransaction()
        var committed: Int64?? = nil
        // The coordinator stores the offsets when it writes the commit
        // marker; poll (bounded) until it answers with them.
        KafkaTestSupport.waitUntil(timeout: .seconds(15)) {
            committed = (try? reader.committed([partition]))?[partition]
            return committed == .some(.some(7))
        }
        XCTAssertEqual(committed, .some(.some(7)))
    }

    /// A second producer with the same transactional id fences the first:
    /// the first one's commit fails fatally, its open transaction is aborted,
    /// and the second one works.
    func testSecondProducerWithTheSameTransactionalIDFencesTheFirst() throws {
        let id = KafkaTestEnvironment.uniqueName("it-fence")
        let first = try producer(transactionalID: id)
        defer { try? first.close() }
        try first.initTransactions()
        try first.beginTransaction()
        try first.send(message("zombie"))
        try first.flush()

        let second = try producer(transactionalID: id)
        defer { try? second.close() }
        try second.initTransactions()

        XCTAssertThrowsError(try first.commitTransaction()) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isFatal, "a fenced producer's commit is fatal: \(error)")
        }
        XCTAssertThrowsError(try first.send(message("zombie again"))) { error in
            XCTAssertEqual((error as? KafkaError)?.isFatal, true, "\(error)")
        }

        try second.beginTransaction()
        try second.send(message("successor"))
        try second.commitTransaction()
        XCTAssertEqual(try values(isolation: .readCommitted, expecting: 1), ["successor"])
    }
}
