import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// Faults injected into the mock cluster: brokers going down, request errors.
final class FaultTests: XCTestCase {
    /// The leader of every partition goes down mid-consume and comes back:
    /// `poll` never throws, and the consumer reads everything produced before
    /// and after the outage exactly once, in order.
    func testConsumerContinuesWithNothingLostOrDoubledWhenTheLeaderGoesDownAndUp() throws {
        let cluster = try MockCluster(brokers: 3)
        let topic = KafkaTestEnvironment.uniqueName("outage")
        try cluster.createTopic(topic, partitions: 2)
        let leader: Int32 = 2
        for partition in KafkaTestSupport.partitions(topic, 2) { try cluster.setPartitionLeader(partition, broker: leader) }
        try KafkaTestSupport.produce(1_000, to: topic, partitions: 2, bootstrap: cluster.bootstrapServers)

        let events = EventLog()
        let consumer = try KafkaConsumer(
            configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers), onEvent: events.append)
        defer { try? consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: KafkaTestSupport.partitions(topic, 2).map { ($0, .beginning) }))
        var records = try KafkaTestSupport.consume(consumer, count: 200, timeout: .seconds(15))
        XCTAssertGreaterThanOrEqual(records.count, 200, "consuming started")

        try cluster.setBrokerDown(leader)
        // Keep polling through the outage until the consumer noticed it.
        let noticed = try KafkaTestSupport.pollUntil(consumer, timeout: .seconds(10), collecting: &records) { _ in
            events.all.contains { if case .error = $0 { true } else { false } }
        }
        XCTAssertTrue(noticed, "the consumer reported the broker outage as an event")
        try cluster.setBrokerUp(leader)

        // Records produced after the outage need fresh fetches from the leader.
        try KafkaTestSupport.produce(1_000, to: topic, partitions: 2, bootstrap: cluster.bootstrapServers, offset: 1_000)
        records += try KafkaTestSupport.consume(consumer, count: 2_000 - records.count, timeout: .seconds(30))
        records += try consumer.poll(maxRecords: 1_000, timeout: .milliseconds(300))
        XCTAssertEqual(records.count, 2_000)
        KafkaTestSupport.assertExactlyOnce(records, count: 2_000)
    }

    /// Fetch requests that fail with broker errors are retried by librdkafka:
    /// `poll` does not throw (the errors arrive as events), and every record
    /// arrives exactly once.
    func testInjectedFetchErrorsAreRetriedTransparently() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("fetch-errors")
        try cluster.createTopic(topic, partitions: 2)
        try KafkaTestSupport.produce(1_000, to: topic, partitions: 2, bootstrap: cluster.bootstrapServers)
        let notLeader = KafkaError.Code(rawValue: 6)  // NOT_LEADER_OR_FOLLOWER: metadata refresh, then refetch
        let requestTimedOut = KafkaError.Code(rawValue: 7)  // REQUEST_TIMED_OUT: reported, refetched after backoff
        let storageError = KafkaError.Code(rawValue: 56)  // KAFKA_STORAGE_ERROR: metadata refresh, then refetch
        cluster.pushRequestErrors(.fetch, [notLeader, requestTimedOut, storageError, requestTimedOut])

        let events = EventLog()
        let consumer = try KafkaConsumer(
            configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers), onEvent: events.append)
        defer { try? consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: KafkaTestSupport.partitions(topic, 2).map { ($0, .beginning) }))
        var records = try KafkaTestSupport.consume(consumer, count: 1_000, timeout: .seconds(30))
        records += try consumer.poll(maxRecords: 1_000, timeout: .milliseconds(300))
        XCTAssertEqual(records.count, 1_000)
        KafkaTestSupport.assertExactlyOnce(records, count: 1_000)
        let reported = events.all.compactMap { if case .error(let error) = $0 { error.code } else { nil } }
        XCTAssertTrue(reported.contains(requestTimedOut), "the injected errors were hit and reported as events: \(reported)")
    }

    /// OffsetCommit errors, as documented on `KafkaConsumer.commit`:
    /// coordinator errors are retried inside `commit`, which succeeds; other
    /// errors are thrown with their code, the offset is not stored, and a
    /// later commit works. An async commit reports the error in its event.
    func testInjectedOffsetCommitErrorsAreRetriedOrThrownAsDocumented() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("commit-errors")
        try cluster.createTopic(topic, partitions: 1)
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let events = EventLog()
        let consumer = try KafkaConsumer(
            configuration: KafkaTestEnvironment.consumerConfiguration(
                bootstrap: cluster.bootstrapServers, groupID: KafkaTestEnvironment.uniqueName("commit-errors")),
            onEvent: events.append)
        defer { try? consumer.close() }
        try consumer.commit([partition: 1])

        // Retried by librdkafka: the commit succeeds.
        let retried: [(Int32, String)] = [
            (15, "COORDINATOR_NOT_AVAILABLE"), (16, "NOT_COORDINATOR"), (14, "COORDINATOR_LOAD_IN_PROGRESS"), (7, "REQUEST_TIMED_OUT"),
        ]
        for (offset, (code, name)) in zip(Int64(10)..., retried) {
            cluster.pushRequestErrors(.offsetCommit, [KafkaError.Code(rawValue: code)])
            XCTAssertNoThrow(try consumer.commit([partition: offset]), name)
            XCTAssertEqual(try consumer.committed([partition]), [partition: offset], name)
        }

        // Thrown: the code, the partition and offset in the message; nothing stored.
        let thrown: [(Int32, String, retriable: Bool)] = [
            (27, "REBALANCE_IN_PROGRESS", true), (25, "UNKNOWN_MEMBER_ID", false), (22, "ILLEGAL_GENERATION", false),
            (30, "GROUP_AUTHORIZATION_FAILED", false),
        ]
        for (code, name, retriable) in thrown {
            cluster.pushRequestErrors(.offsetCommit, [KafkaError.Code(rawValue: code)])
            XCTAssertThrowsError(try consumer.commit([partition: 99]), name) { error in
                guard let error = error as? KafkaError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(error.code.name, name)
                XCTAssertEqual(error.isRetriable, retriable, "\(error)")
                XCTAssertFalse(error.isFatal, "\(error)")
                XCTAssertTrue(error.message.contains("\(partition)@99"), error.message)
            }
            XCTAssertEqual(try consumer.committed([partition]), [partition: 13], "\(name): the failed commit stored nothing")
        }
        try consumer.commit([partition: 20])
        XCTAssertEqual(try consumer.committed([partition]), [partition: 20])

        // Asynchronous: the result comes as a `.committed` event during poll
        // (librdkafka reports synchronous commits there too, so look for this one).
        cluster.pushRequestErrors(.offsetCommit, [KafkaError.Code(rawValue: 25)])
        try consumer.commitAsync([partition: 30])
        func asyncResult() -> KafkaError?? {
            for case .committed(let offsets, let error) in events.all where offsets == [partition: 30] { return .some(error) }
            return nil
        }
        var ignored: [KafkaRecord] = []
        let reported = try KafkaTestSupport.pollUntil(consumer, timeout: .seconds(10), collecting: &ignored) { _ in
            asyncResult() != nil
        }
        XCTAssertTrue(reported, "the async commit's result was reported")
        XCTAssertEqual(asyncResult()??.code.name, "UNKNOWN_MEMBER_ID")
        XCTAssertEqual(try consumer.committed([partition]), [partition: 20])
    }

    /// Produce requests that fail with retriable broker errors are retried
    /// by the idempotent producer: every record lands once, in order.
    func testInjectedProduceErrorsAreRetriedWithoutDuplicates() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("produce-errors")
        try cluster.createTopic(topic, partitions: 2)
        let notEnoughReplicas = KafkaError.Code(rawValue: 19)
        let requestTimedOut = KafkaError.Code(rawValue: 7)
        let notLeader = KafkaError.Code(rawValue: 6)
        cluster.pushRequestErrors(.produce, [notEnoughReplicas, requestTimedOut, notLeader, requestTimedOut])
        try KafkaTestSupport.produce(1_000, to: topic, partitions: 2, bootstrap: cluster.bootstrapServers)

        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? consumer.close() }
        try consumer.assign(Dictionary(uniqueKeysWithValues: KafkaTestSupport.partitions(topic, 2).map { ($0, .beginning) }))
        var records = try KafkaTestSupport.consume(consumer, count: 1_000, timeout: .seconds(20))
        records += try consumer.poll(maxRecords: 1_000, timeout: .milliseconds(300))
        KafkaTestSupport.assertExactlyOnce(records, count: 1_000)
        for partition in 0..<Int32(2) {
            let indexes = records.filter { $0.partition == partition }.compactMap(KafkaTestSupport.index(of:))
            XCTAssertEqual(indexes, indexes.sorted(), "partition \(partition) keeps the order sent")
        }
    }

    /// A produce error that retrying cannot fix fails the delivery: `flush`
    /// throws it with its code and the partition; it is not fatal.
    func testNonRetriableProduceErrorFailsTheDelivery() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("refused", partitions: 1)
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? producer.close() }
        cluster.pushRequestErrors(.produce, [.topicAuthorizationFailed])
        try producer.send(KafkaProducerMessage(topic: "refused", partition: 0, key: nil, value: "x"))
        XCTAssertThrowsError(try producer.flush()) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .topicAuthorizationFailed, "\(error)")
            XCTAssertTrue(error.message.contains("refused[0]"), error.message)
        }
        XCTAssertEqual(producer.deliveryCounts.failed, 1)
        // librdkafka remembers the topic as unauthorized: sending to it now
        // throws at once. The producer itself is not broken.
        XCTAssertThrowsError(try producer.send(KafkaProducerMessage(topic: "refused", partition: 0, key: nil, value: "y"))) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .topicAuthorizationFailed, "\(error)")
        }
        try cluster.createTopic("allowed", partitions: 1)
        try producer.send(KafkaProducerMessage(topic: "allowed", partition: 0, key: nil, value: "z"))
        XCTAssertNoThrow(try producer.flush())
        XCTAssertEqual(producer.deliveryCounts.delivered, 1)
    }
}
