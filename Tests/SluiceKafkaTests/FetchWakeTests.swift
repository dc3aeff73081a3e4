import Foundation
@testable import SluiceKafka
import SluiceTesting
import XCTest

/// librdkafka 2.0 fetches again after a resume, or after its queue was
/// drained below its limits, only when the broker thread next wakes up (up
/// to a second later). The consumer wakes those threads itself.
final class FetchWakeTests: XCTestCase {
    /// The policy: a consumer that keeps up never wakes anything; one that
    /// was behind wakes once, when a poll empties the queue, with one
    /// request in flight at a time.
    func testAPollWakesWhenItEmptiesAQueueItWasBehind() {
        var policy = FetchWakePolicy()
        XCTAssertFalse(policy.shouldWake(queuedBefore: 0, polled: 0), "an empty poll")
        XCTAssertFalse(policy.shouldWake(queuedBefore: 300, polled: 300), "kept up: took everything queued")
        XCTAssertFalse(policy.shouldWake(queuedBefore: 50_000, polled: 10_000), "still behind: the queue may be over its limit")
        XCTAssertFalse(policy.shouldWake(queuedBefore: 40_000, polled: 10_000))
        XCTAssertTrue(policy.shouldWake(queuedBefore: 8_000, polled: 8_000), "emptied after being behind")
        XCTAssertFalse(policy.shouldWake(queuedBefore: 100, polled: 100), "once per time behind")
        XCTAssertFalse(policy.shouldWake(queuedBefore: 20_000, polled: 10_000))
        XCTAssertFalse(policy.shouldWake(queuedBefore: 5_000, polled: 5_000), "the first request is still in flight")
        policy.answered()
        XCTAssertFalse(policy.shouldWake(queuedBefore: 20_000, polled: 10_000))
        XCTAssertTrue(policy.shouldWake(queuedBefore: 10_000, polled: 10_000), "answered: the next time behind wakes again")
    }

    /// A consumer taking its records a few at a time is behind librdkafka's
    /// queue; the poll that empties it sends the wake-up request, which is
    /// answered, and every record is read once.
    func testAConsumerThatFallsBehindWakesTheFetchers() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("wake")
        try cluster.createTopic(topic, partitions: 2)
        try KafkaTestSupport.produce(40, to: topic, partitions: 2, bootstrap: cluster.bootstrapServers)
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? consumer.close() }
        try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning,
                             KafkaTopicPartition(topic: topic, partition: 1): .beginning])
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while records.count < 40 && ContinuousClock.now < deadline {
            records += try consumer.poll(maxRecords: 3, timeout: .milliseconds(100))
        }
        KafkaTestSupport.assertExactlyOnce(records, count: 40)
        XCTAssertTrue(KafkaTestSupport.waitUntil(timeout: .seconds(10)) { consumer.fetcherWakeupCount >= 1 },
                      "no wake-up request was answered (\(consumer.fetcherWakeupCount))")
    }
}
