import SluiceKafka
import SluiceTesting
import XCTest

/// `readsHeaders`: on, a record brings its headers; off, it comes without
/// them and otherwise the same.
final class HeaderReadingTests: XCTestCase {
    func testHeadersComeBackOnlyWhenTheConsumerReadsThem() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("headers")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        for i in 0..<20 {
            var message = KafkaProducerMessage(topic: topic, partition: 0, key: Array("k\(i)".utf8), value: Array("v\(i)".utf8))
            if i % 2 == 0 { message.headers = [KafkaHeader(name: "n", string: "\(i)")] }
            try producer.send(message)
        }
        try producer.flush(timeout: .seconds(10))
        try producer.close()

        for reads in [true, false] {
            var configuration = KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers)
            configuration.readsHeaders = reads
            let consumer = try KafkaConsumer(configuration: configuration)
            defer { try? consumer.close() }
            try consumer.assign([KafkaTopicPartition(topic: topic, partition: 0): .beginning])
            let records = try KafkaTestSupport.consume(consumer, count: 20, timeout: .seconds(10))
            XCTAssertEqual(records.map(\.offset), Array(0..<20))
            XCTAssertEqual(records.map { String(decoding: $0.value, as: UTF8.self) }, (0..<20).map { "v\($0)" })
            XCTAssertEqual(records.map { $0.keyString ?? "" }, (0..<20).map { "k\($0)" })
            let expected = (0..<20).map { i in reads && i % 2 == 0 ? [KafkaHeader(name: "n", string: "\(i)")] : [] }
            XCTAssertEqual(records.map(\.headers), expected, "readsHeaders \(reads)")
        }
    }
}
