import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// The mock cluster's own controls: brokers, topic errors, round-trip time.
final class MockClusterTests: XCTestCase {
    func testBrokersListenOnLoopbackAndTopicsHaveTheirPartitions() throws {
        let cluster = try MockCluster(brokers: 3)
        XCTAssertEqual(cluster.brokerCount, 3)
        let addresses = cluster.bootstrapServers.split(separator: ",")
        XCTAssertEqual(addresses.count, 3)
        XCTAssertTrue(addresses.allSatisfy { $0.hasPrefix("127.0.0.1:") }, cluster.bootstrapServers)
        try cluster.createTopic("five", partitions: 5)
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        XCTAssertEqual(try admin.describeTopic("five").partitions.count, 5)
        XCTAssertThrowsError(try cluster.createTopic("none", partitions: 0))
        XCTAssertThrowsError(try MockCluster(brokers: 0))
    }

    /// A topic error set on the mock is what clients see in metadata:
    /// `partitionCount` (and so subscribe/assign) throws naming the topic,
    /// until the error is cleared.
    func testTopicErrorsReachClientsUntilCleared() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("flaky", partitions: 2)
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? consumer.close() }
        let leaderNotAvailable = KafkaError.Code(rawValue: 5)
        cluster.setTopicError("flaky", leaderNotAvailable)
        XCTAssertThrowsError(try consumer.partitionCount(of: "flaky")) { error in
            XCTAssertEqual((error as? KafkaError)?.code, leaderNotAvailable, "\(error)")
            XCTAssertTrue("\(error)".contains("'flaky'"), "\(error)")
        }
        cluster.setTopicError("flaky", .noError)
        XCTAssertEqual(try consumer.partitionCount(of: "flaky"), 2)
    }

    /// A round-trip time set on a broker delays its answers by that much.
    func testRoundTripTimeDelaysAnswers() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("slow", partitions: 1)
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? consumer.close() }
        let partition = KafkaTopicPartition(topic: "slow", partition: 0)
        _ = try consumer.watermarks(of: partition)  // connect first
        try cluster.setRoundTripTime(.milliseconds(400), broker: 1)
        var start = ContinuousClock.now
        _ = try consumer.watermarks(of: partition)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(350))
        try cluster.setRoundTripTime(.zero, broker: 1)
        _ = try consumer.watermarks(of: partition)  // the last delayed answer may still be queued
        start = ContinuousClock.now
        _ = try consumer.watermarks(of: partition)
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(300))
    }
}
