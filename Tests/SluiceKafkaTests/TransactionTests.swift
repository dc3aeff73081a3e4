import SluiceKafka
import SluiceTesting
import XCTest

/// The transactional API against the mock cluster. librdkafka 2.0.2's mock
/// accepts every transactional request but does not emulate transactions
/// (aborted records stay visible, offsets sent in a transaction are dropped,
/// no fencing), so these tests check the call sequence, the state machine's
/// errors and the error classification; the isolation guarantees are checked
/// against a real broker in ``TransactionIntegrationTests``.
final class TransactionTests: XCTestCase {
    private var cluster: MockCluster!
    private var topic = ""

    override func setUpWithError() throws {
        cluster = try MockCluster(brokers: 1)
        topic = KafkaTestEnvironment.uniqueName("txn")
        try cluster.createTopic(topic, partitions: 2)
    }

    override func tearDown() {
        cluster = nil
    }

    private func transactionalProducer(
        _ id: String = KafkaTestEnvironment.uniqueName("txn-id"), linger: Duration = .milliseconds(1)
    ) throws -> KafkaProducer {
        var configuration = KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers)
        configuration.transactionalID = id
        configuration.linger = linger
        return try KafkaProducer(configuration: configuration)
    }

    private func message(_ value: String) -> KafkaProducerMessage {
        KafkaProducerMessage(topic: topic, partition: 0, key: nil, value: value)
    }

    /// init → begin → send → sendOffsetsToTransaction → commit, then
    /// begin → send → abort, then another commit: every call succeeds with
    /// default settings and the committed records are readable.
    func testInitBeginSendOffsetsCommitAndAbortSucceed() throws {
        // A long linger keeps the aborted record queued, so abort purges it.
        let producer = try transactionalProducer(linger: .seconds(5))
        defer { try? producer.close() }
        let group = KafkaTestEnvironment.uniqueName("txn-group")
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(
            bootstrap: cluster.bootstrapServers, groupID: group))
        defer { try? consumer.close() }
        let input = KafkaTopicPartition(topic: topic, partition: 1)

        try producer.initTransactions()
        try producer.beginTransaction()
        for i in 0..<5 { try producer.send(message("committed-\(i)")) }
        try producer.sendOffsetsToTransaction([input: 5], groupMetadata: try consumer.groupMetadata())
        try producer.commitTransaction()

        try producer.beginTransaction()
        try producer.send(message("aborted"))
        try producer.sendOffsetsToTransaction([input: 6], groupMetadata: try KafkaConsumerGroupMetadata(groupID: group))
        try producer.abortTransaction()

        try producer.beginTransaction()
        try producer.send(message("committed-5"))
        try producer.commitTransaction()
        // Abort purged the aborted record from the queue (commit flushes the
        // others despite the linger): it fails with a purge error, which is
        // not a delivery failure for flush.
        let (delivered, failed) = producer.deliveryCounts
        XCTAssertEqual(delivered, 6, "commit flushes the records of its transaction")
        XCTAssertEqual(failed, 1, "abort purges the queued record")
        XCTAssertNoThrow(try producer.flush(), "a record purged by abort is not reported as a delivery failure")

        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning])
        let values = try KafkaTestSupport.consume(consumer, count: delivered, timeout: .seconds(10)).compactMap(\.valueString)
        // The mock shows the aborted record too (see the type's comment); the
        // committed ones must all be there, in order.
        XCTAssertEqual(values.filter { $0.hasPrefix("committed-") }, (0..<6).map { "committed-\($0)" })
    }

    /// Calls out of order throw librdkafka's `_STATE` error with a message
    /// that names the call and the state; none is fatal, and the producer
    /// goes on working after each.
    func testCallsOutOfOrderThrowStateErrorsThatAreNotFatal() throws {
        let producer = try transactionalProducer()
        defer { try? producer.close() }

        assertStateError(try producer.beginTransaction(), mentions: "begin transaction", "Init")
        assertStateError(try producer.send(message("before init")), mentions: "initTransactions", "beginTransaction")

        try producer.initTransactions()
        assertStateError(try producer.commitTransaction(), mentions: "commit transaction", "Ready")
        assertStateError(try producer.abortTransaction(), mentions: "abort transaction", "Ready")
        assertStateError(try producer.send(message("outside")), mentions: "send to \(topic)", "beginTransaction")
        assertStateError(
            try producer.sendOffsetsToTransaction(
                [KafkaTopicPartition(topic: topic, partition: 1): 1], groupMetadata: KafkaConsumerGroupMetadata(groupID: "g")),
            mentions: "send offsets")

        try producer.beginTransaction()
        assertStateError(try producer.beginTransaction(), mentions: "begin transaction", "InTransaction")
        try producer.send(message("inside"))
        try producer.commitTransaction()
        XCTAssertEqual(producer.deliveryCounts.delivered, 1)
    }

    /// A producer without a transactional id refuses the transactional API
    /// with `notConfigured` (librdkafka's code) naming the setting to set.
    func testNonTransactionalProducerRefusesTransactionalCallsNamingTheSetting() throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? producer.close() }
        let calls: [(String, () throws -> Void)] = [
            ("initTransactions", { try producer.initTransactions() }),
            ("beginTransaction", { try producer.beginTransaction() }),
            ("commitTransaction", { try producer.commitTransaction() }),
            ("abortTransaction", { try producer.abortTransaction() }),
        ]
        for (name, call) in calls {
            XCTAssertThrowsError(try call(), name) { error in
                guard let error = error as? KafkaError else { return XCTFail("\(name): \(error) is not a KafkaError") }
                XCTAssertEqual(error.code, .notConfigured, name)
                XCTAssertEqual(error.setting, "transactional.id", name)
                XCTAssertTrue(error.message.contains(name) && error.message.contains("transactional.id"), error.message)
                XCTAssertFalse(error.isFatal, name)
            }
        }
        // The producer itself is fine.
        try producer.send(message("plain"))
        try producer.flush()
    }

    /// After a fatal error every call throws a fatal error carrying the
    /// cause, synchronously and asynchronously; close is still harmless.
    func testEveryCallAfterAFatalErrorThrowsAFatalError() async throws {
        let producer = try transactionalProducer()
        // The synchronous send, named so the async context does not pick the async one.
        let sendNow: (KafkaProducerMessage) throws -> UInt = producer.send
        let flushNow: (Duration) throws -> Void = producer.flush
        try producer.initTransactions()
        try producer.beginTransaction()
        _ = try sendNow(message("before"))
        producer._triggerFatalError(.producerFenced, reason: "fenced by the test")

        func assertFatal<T>(_ body: @autoclosure () throws -> T, _ what: String, line: UInt = #line) {
            XCTAssertThrowsError(try body(), what, line: line) { error in
                guard let error = error as? KafkaError else { return XCTFail("\(what): \(error)", line: line) }
                XCTAssertTrue(error.isFatal, "\(what): \(error)", line: line)
                XCTAssertFalse(error.isRetriable, "\(what): \(error)", line: line)
                XCTAssertEqual(error.code, .producerFenced, "\(what): \(error)", line: line)
                XCTAssertTrue(error.message.contains("fenced by the test"), "\(what): \(error.message)", line: line)
            }
        }
        assertFatal(try sendNow(message("after")), "send")
        assertFatal(try producer.commitTransaction(), "commitTransaction")
        assertFatal(try producer.beginTransaction(), "beginTransaction")
        assertFatal(try flushNow(.seconds(5)), "flush")
        do {
            let report: KafkaDeliveryReport = try await producer.send(message("after, async"))
            _ = report
            XCTFail("async send after a fatal error succeeded")
        } catch let error as KafkaError {
            XCTAssertTrue(error.isFatal, "\(error)")
        }
        XCTAssertNoThrow(try producer.close(timeout: .seconds(5)))
        XCTAssertNoThrow(try producer.close(timeout: .seconds(5)), "closing twice is harmless")
    }

    /// An error the broker gives while adding partitions to the transaction
    /// is abortable: commit throws with `requiresTransactionAbort`, abort
    /// works and the next transaction commits.
    func testAbortableErrorRequiresAbortThenTheNextTransactionCommits() throws {
        let producer = try transactionalProducer()
        defer { try? producer.close() }
        try producer.initTransactions()
        cluster.pushRequestErrors(.addPartitionsToTxn, [.topicAuthorizationFailed])
        try producer.beginTransaction()
        try producer.send(message("doomed"))
        XCTAssertThrowsError(try producer.commitTransaction()) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.requiresTransactionAbort, "\(error)")
            XCTAssertFalse(error.isFatal, "\(error)")
            XCTAssertFalse(error.isRetriable, "\(error)")
        }
        try producer.abortTransaction()
        try producer.beginTransaction()
        try producer.send(message("fine"))
        try producer.commitTransaction()
    }

    /// A producer fenced by the broker at commit is fatal.
    func testFencingAtCommitIsFatal() throws {
        let producer = try transactionalProducer()
        defer { try? producer.close() }
        try producer.initTransactions()
        try producer.beginTransaction()
        try producer.send(message("x"))
        try producer.flush()
        cluster.pushRequestErrors(.endTxn, [KafkaError.Code(rawValue: 90)])  // PRODUCER_FENCED
        XCTAssertThrowsError(try producer.commitTransaction()) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isFatal, "\(error)")
            XCTAssertFalse(error.requiresTransactionAbort, "\(error)")
        }
        XCTAssertThrowsError(try producer.send(message("y"))) { error in
            XCTAssertTrue((error as? KafkaError)?.isFatal == true, "\(error)")
        }
    }

    /// A transaction coordinator that cannot be reached in time gives a
    /// retriable timeout; the same call succeeds once it is back.
    func testUnreachableCoordinatorIsRetriableAndTheCallSucceedsLater() throws {
        let producer = try transactionalProducer()
        defer { try? producer.close() }
        try cluster.setBrokerDown(1)
        XCTAssertThrowsError(try producer.initTransactions(timeout: .seconds(1))) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.isRetriable, "\(error)")
            XCTAssertFalse(error.isFatal, "\(error)")
        }
        try cluster.setBrokerUp(1)
        try producer.initTransactions(timeout: .seconds(20))
        try producer.beginTransaction()
        try producer.send(message("after the outage"))
        try producer.commitTransaction()
    }

    private func assertStateError<T>(
        _ body: @autoclosure () throws -> T, mentions words: String..., file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error) is not a KafkaError", file: file, line: line) }
            XCTAssertEqual(error.code, .state, "\(error)", file: file, line: line)
            XCTAssertFalse(error.isFatal, "\(error)", file: file, line: line)
            for word in words {
                XCTAssertTrue(error.message.contains(word), "'\(word)' not in: \(error.message)", file: file, line: line)
            }
        }
    }
}
