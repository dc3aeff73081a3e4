import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// Topic administration against the mock cluster.
final class AdminTests: XCTestCase {
    /// describe/list/watermarks see what the mock holds; a missing topic is
    /// an error naming it.
    func testDescribeListAndWatermarks() throws {
        let cluster = try MockCluster(brokers: 3)
        try cluster.createTopic("described", partitions: 3)
        try KafkaTestSupport.produce(9, to: "described", partitions: 3, bootstrap: cluster.bootstrapServers)
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        let topic = try admin.describeTopic("described")
        XCTAssertEqual(topic.partitions.map(\.id), [0, 1, 2])
        XCTAssertTrue(topic.partitions.allSatisfy { (1...3).contains($0.leader) && $0.error == nil })
        XCTAssertEqual(try admin.listTopics(), ["described"])
        XCTAssertEqual(try admin.metadata().brokers.map(\.id).sorted(), [1, 2, 3])
        XCTAssertEqual(try admin.watermarks(of: KafkaTopicPartition(topic: "described", partition: 2)), KafkaWatermarks(low: 0, high: 3))
        XCTAssertThrowsError(try admin.describeTopic("undescribed")) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .unknownTopicOrPartition)
            XCTAssertTrue("\(error)".contains("'undescribed'"), "\(error)")
        }
        XCTAssertThrowsError(try admin.createTopic("bad", partitions: 0)) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .invalidArgument)
        }
    }

    /// librdkafka 2.0.2's mock names no controller, so CreateTopics waits out
    /// its timeout there: the error says so and points to MockCluster.
    func testCreateTopicOnTheMockFailsInBoundedTimeWithAHint() throws {
        let cluster = try MockCluster(brokers: 1)
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        let start = ContinuousClock.now
        XCTAssertThrowsError(try admin.createTopic("via-admin", partitions: 2, timeout: .seconds(1))) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .timedOut)
            XCTAssertTrue(error.message.contains("MockCluster.createTopic"), error.message)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
    }
}
