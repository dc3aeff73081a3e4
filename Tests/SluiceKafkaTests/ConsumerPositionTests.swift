import Foundation
@testable import SluiceKafka
import SluiceTesting
import XCTest

/// Where a consumer reads: start offsets, seek, pause/resume, position,
/// watermarks, and pattern subscriptions.
final class ConsumerPositionTests: XCTestCase {
    private var cluster: MockCluster!
    private var topic = ""

    override func setUpWithError() throws {
        cluster = try MockCluster(brokers: 1)
        topic = KafkaTestEnvironment.uniqueName("positions")
        try cluster.createTopic(topic, partitions: 2)
        try KafkaTestSupport.produce(40, to: topic, partitions: 2, bootstrap: cluster.bootstrapServers)
    }

    override func tearDown() {
        cluster = nil
    }

    private func consumer(groupID: String? = nil) throws -> KafkaConsumer {
        try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers, groupID: groupID))
    }

    /// `.beginning`, `.end` and `.offset(n)` start where they say.
    func testStartOffsetsStartWhereTheySay() throws {
        let consumer = try consumer()
        defer { try? consumer.close() }
        let p0 = KafkaTopicPartition(topic: topic, partition: 0)
        let p1 = KafkaTopicPartition(topic: topic, partition: 1)
        XCTAssertEqual(try consumer.watermarks(of: p0), KafkaWatermarks(low: 0, high: 20))
        try consumer.assign([p0: .offset(15), p1: .end])
        XCTAssertEqual(try consumer.assignment(), [p0, p1])
        var records = try KafkaTestSupport.consume(consumer, count: 5, timeout: .seconds(10))
        XCTAssertEqual(records.map(\.offset), Array(15..<20))
        XCTAssertTrue(records.allSatisfy { $0.partition == 0 })

        // `.end` skipped the 20 records p1 held; it starts at the end of the
        // log as the consumer looks it up (asynchronously, soon after assign),
        // so produce until p1 delivers and check it starts beyond them.
        records += try consumer.poll(maxRecords: 100, timeout: .milliseconds(300))
        XCTAssertTrue(records.allSatisfy { $0.partition == 0 }, "nothing from before the assignment of p1")
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? producer.close() }
        var fromP1: [KafkaRecord] = []
        for i in 0..<50 where fromP1.isEmpty {
            try producer.send(KafkaProducerMessage(topic: topic, partition: 1, key: nil, value: "late-\(i)"))
            try producer.flush()
            fromP1 += try consumer.poll(maxRecords: 100, timeout: .milliseconds(200)).filter { $0.partition == 1 }
        }
        XCTAssertGreaterThanOrEqual(fromP1.first?.offset ?? -1, 20)
        XCTAssertEqual(try consumer.cachedWatermarks(of: p1)?.low, 0, "fetch responses carry the watermarks")
        let high = try consumer.watermarks(of: p1).high
        XCTAssertEqual(try consumer.cachedWatermarks(of: p1)?.high ?? 0, high, accuracy: 1)
        XCTAssertEqual(try consumer.position([p0, p1]), [p0: 20, p1: (fromP1.last?.offset ?? -2) + 1])
    }

    /// A fresh consumer assigned from the beginning gets its first records
    /// without librdkafka's 500 ms retry of the offset lookup, which it makes
    /// when it does not know the partition leaders yet (assign has them
    /// learnt first). The bound is below those 500 ms with room for a slow
    /// machine.
    func testBeginningIsLookedUpWithoutWaitingForLeaders() throws {
        let consumer = try consumer()
        defer { try? consumer.close() }
        let start = ContinuousClock.now
        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning,
                             KafkaTopicPartition(topic: topic, partition: 1): .beginning])
        var records: [KafkaRecord] = []
        try KafkaTestSupport.pollUntil(consumer, timeout: .seconds(10), collecting: &records) { !$0.isEmpty }
        let waited = ContinuousClock.now - start
        XCTAssertFalse(records.isEmpty)
        XCTAssertEqual(records.first?.offset, 0)
        XCTAssertLessThan(waited, .milliseconds(400), "first record after \(waited)")
    }

    /// With `autoOffsetReset = .error`, a start with no committed offset or
    /// beyond the log is thrown from `poll`, naming the partition, instead
    /// of being silently reset.
    func testResetPolicyErrorIsThrownFromPollNamingThePartition() throws {
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(
            bootstrap: cluster.bootstrapServers, groupID: KafkaTestEnvironment.uniqueName("strict"), from: .error))
        defer { try? consumer.close() }
        let p0 = KafkaTopicPartition(topic: topic, partition: 0)
        let p1 = KafkaTopicPartition(topic: topic, partition: 1)
        for (partition, start) in [(p0, KafkaStartOffset.committed), (p1, .offset(1_000))] {
            try consumer.assign([partition: start])
            var thrown: KafkaError?
            let deadline = ContinuousClock.now + .seconds(10)
            while thrown == nil && ContinuousClock.now < deadline {
                do {
                    let records = try consumer.poll(timeout: .milliseconds(100))
                    XCTAssertEqual(records.count, 0, "\(start): nothing to read without a valid start")
                } catch let error as KafkaError {
                    thrown = error
                }
            }
            XCTAssertEqual(thrown?.code, .autoOffsetReset, "\(start): \(String(describing: thrown))")
            XCTAssertTrue(thrown?.message.contains("\(partition)") == true, "\(String(describing: thrown))")
        }
    }

    /// seek moves the position back and forward; pause stops one partition
    /// while the other keeps flowing, resume picks it up where it stopped.
    func testSeekPauseAndResume() throws {
        let consumer = try consumer()
        defer { try? consumer.close() }
        let p0 = KafkaTopicPartition(topic: topic, partition: 0)
        let p1 = KafkaTopicPartition(topic: topic, partition: 1)
        try consumer.assign([p0: .beginning, p1: .beginning])
        XCTAssertEqual(try KafkaTestSupport.consume(consumer, count: 40, timeout: .seconds(10)).count, 40)

        try consumer.seek(p0, to: .offset(5))
        var records = try KafkaTestSupport.consume(consumer, count: 15, timeout: .seconds(10))
        XCTAssertEqual(records.map(\.offset), Array(5..<20))
        XCTAssertTrue(records.allSatisfy { $0.partition == 0 })

        try consumer.pause([p1])
        try consumer.seek(p0, to: .beginning)
        try consumer.seek(p1, to: .beginning)
        records = try KafkaTestSupport.consume(consumer, count: 20, timeout: .seconds(10))
        records += try consumer.poll(maxRecords: 100, timeout: .milliseconds(300))
        XCTAssertEqual(records.count, 20, "only the unpaused partition delivers")
        XCTAssertTrue(records.allSatisfy { $0.partition == 0 })

        try consumer.resume([p1])
        records = try KafkaTestSupport.consume(consumer, count: 20, timeout: .seconds(10))
        XCTAssertEqual(records.map(\.offset), Array(0..<20))
        XCTAssertTrue(records.allSatisfy { $0.partition == 1 })
    }

    /// A resume wakes the threads that fetch the partitions (a ListOffsets
    /// request, answered): librdkafka 2.0 alone acts on it only when they
    /// next wake up, up to a second later with every partition paused. The
    /// partitions then deliver from where they stopped, each record once.
    func testResumeWakesTheFetchingThreads() throws {
        let consumer = try consumer()
        defer { try? consumer.close() }
        let partitions = [KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1)]
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaStartOffset.beginning) }))
        var records = try KafkaTestSupport.consume(consumer, count: 10, timeout: .seconds(10))
        // Polls may have woken the fetchers too (FetchWakeTests): count from here.
        let before = consumer.fetcherWakeupCount
        try consumer.pause(partitions)
        try consumer.resume(partitions)
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: .seconds(10)) { consumer.fetcherWakeupCount > before },
                      "the resume's wake-up request was not answered (\(consumer.fetcherWakeupCount - before))")
        records += try KafkaTestSupport.consume(consumer, count: 40 - records.count, timeout: .seconds(10))
        records += try consumer.poll(maxRecords: 100, timeout: .milliseconds(300))
        KafkaTestSupport.assertExactlyOnce(records, count: 40)
    }

    /// A pattern subscription picks up every matching topic (one group
    /// join). The member is then dropped without `close`: librdkafka closes
    /// it while the handle is destroyed, which must neither crash nor hang.
    func testPatternSubscriptionReadsEveryMatchingTopic() throws {
        let other = topic + "-other"
        try cluster.createTopic(other, partitions: 1)
        try cluster.createTopic("unrelated", partitions: 1)
        try KafkaTestSupport.produce(5, to: other, partitions: 1, bootstrap: cluster.bootstrapServers, offset: 40)
        try KafkaTestSupport.produce(5, to: "unrelated", partitions: 1, bootstrap: cluster.bootstrapServers, offset: 1_000)
        var consumer: KafkaConsumer? = try consumer(groupID: KafkaTestEnvironment.uniqueName("pattern"))
        let events = EventLog()
        try consumer?.subscribe(pattern: topic + ".*")
        var records: [KafkaRecord] = []
        if let consumer {
            records = try KafkaTestSupport.consume(consumer, count: 45, timeout: .seconds(20))
            records += try consumer.poll(maxRecords: 100, timeout: .milliseconds(300))
            let stream = consumer.events
            Task { for await event in stream { events.append(event) } }
        }
        XCTAssertEqual(records.count, 45)
        XCTAssertEqual(Set(records.map(\.topic)), [topic, other])
        KafkaTestSupport.assertExactlyOnce(records, count: 45)

        weak let dropped = consumer
        let start = ContinuousClock.now
        consumer = nil
        XCTAssertNil(dropped, "nothing else keeps the consumer alive")
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(10), "destroying an open group member is bounded")
        // The events stream ends with the consumer, after what it buffered.
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: .seconds(5)) {
            events.assigned.contains { $0.contains(KafkaTopicPartition(topic: other, partition: 0)) }
        }, "the assignment was also delivered through the events stream: \(events.all)")
    }
}
