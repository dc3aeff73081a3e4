import XCTest
@testable import SluiceKafka
import SluiceTesting

final class SmokeTests: XCTestCase {
    func testProduceAndConsume() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("smoke", partitions: 2)
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        for i in 0..<10 {
            try producer.send(KafkaProducerMessage(topic: "smoke", key: "k\(i)", value: "v\(i)", headers: [KafkaHeader(name: "h", string: "x")]))
        }
        try producer.flush()
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        try consumer.assign([KafkaTopicPartition(topic: "smoke", partition: 0): .beginning, KafkaTopicPartition(topic: "smoke", partition: 1): .beginning])
        var got: [KafkaRecord] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while got.count < 10 && ContinuousClock.now < deadline {
            got += try consumer.poll(maxRecords: 100, timeout: .milliseconds(200))
        }
        XCTAssertEqual(got.count, 10)
        XCTAssertEqual(got.first?.headers, [KafkaHeader(name: "h", string: "x")])
        print(got.map { "\($0.partition)/\($0.offset) \($0.keyString ?? "-")=\($0.valueString ?? "")" })
        try consumer.close()
        try producer.close()
    }
}
