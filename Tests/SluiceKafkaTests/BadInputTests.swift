import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// Misconfiguration and misuse: each is a thrown, readable error, never a
/// crash or a hang.
final class BadInputTests: XCTestCase {
    // MARK: Properties

    /// An unknown property is refused when the client is created, with the
    /// property's name and librdkafka's own message.
    func testUnknownPropertyIsRefusedNamingItWithLibrdkafkasMessage() throws {
        var consumer = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092")
        consumer.additionalProperties["no.such.property"] = "1"
        assertConfigurationError(try KafkaConsumer(configuration: consumer), setting: "no.such.property",
                                 librdkafkaSays: "No such configuration property")
        var producer = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
        producer.additionalProperties["linger.msec"] = "5"
        assertConfigurationError(try KafkaProducer(configuration: producer), setting: "linger.msec",
                                 librdkafkaSays: "No such configuration property")
        assertConfigurationError(
            try KafkaAdmin(bootstrapServers: "127.0.0.1:9092", additionalProperties: ["admin.typo": "x"]),
            setting: "admin.typo", librdkafkaSays: "No such configuration property")
    }

    /// A bad value, passed through or from a typed option, is refused naming
    /// the property and the value, with librdkafka's reason.
    func testBadValueIsRefusedNamingThePropertyAndTheValue() throws {
        var passthrough = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092")
        passthrough.additionalProperties["fetch.wait.max.ms"] = "soon"
        assertConfigurationError(try KafkaConsumer(configuration: passthrough), setting: "fetch.wait.max.ms",
                                 librdkafkaSays: "Invalid value", mentions: "soon")

        var enumValue = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092")
        enumValue.additionalProperties["auto.offset.reset"] = "sideways"
        assertConfigurationError(try KafkaConsumer(configuration: enumValue), setting: "auto.offset.reset",
                                 librdkafkaSays: "Invalid value", mentions: "sideways")

        var typed = KafkaConsumerConfiguration(bootstrapServers: "127.0.0.1:9092")
        typed.fetch.queuedMinMessages = 0
        assertConfigurationError(try KafkaConsumer(configuration: typed), setting: "queued.min.messages",
                                 librdkafkaSays: "outside allowed range")

        var producer = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092")
        producer.additionalProperties["acks"] = "some"
        assertConfigurationError(try KafkaProducer(configuration: producer), setting: "acks",
                                 librdkafkaSays: "Invalid value", mentions: "some")
    }

    /// Settings that are each valid but contradict each other are refused
    /// when the client is created, with librdkafka's explanation.
    func testContradictorySettingsAreRefusedWithLibrdkafkasExplanation() throws {
        var producer = KafkaProducerConfiguration(bootstrapServers: "127.0.0.1:9092", transactionalID: "t")
        producer.additionalProperties["enable.idempotence"] = "false"
        XCTAssertThrowsError(try KafkaProducer(configuration: producer)) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .invalidConfiguration)
            XCTAssertTrue(error.message.contains("enable.idempotence"), error.message)
        }
    }

    // MARK: Unreachable cluster

    /// With nothing listening at the bootstrap address, subscribe, assign
    /// and metadata throw within their timeout (plus a margin), naming the
    /// address; a producer's flush does too.
    func testUnreachableBootstrapFailsWithinTheTimeoutNamingTheAddress() throws {
        let address = "127.0.0.1:1"
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: address, groupID: "g"))
        defer { try? consumer.close() }
        let topicPartition = KafkaTopicPartition(topic: "t", partition: 0)
        let calls: [(String, () throws -> Void)] = [
            ("subscribe", { try consumer.subscribe(topics: ["t"], timeout: .seconds(1)) }),
            ("assign", { try consumer.assign([topicPartition: .beginning], timeout: .seconds(1)) }),
            ("metadata", { _ = try consumer.metadata(timeout: .seconds(1)) }),
            ("admin.listTopics", { _ = try KafkaAdmin(bootstrapServers: address).listTopics(timeout: .seconds(1)) }),
        ]
        for (name, call) in calls {
            let start = ContinuousClock.now
            XCTAssertThrowsError(try call(), name) { error in
                guard let error = error as? KafkaError else { return XCTFail("\(name): \(error)") }
                XCTAssertTrue(error.message.contains(address), "\(name): \(error.message)")
                XCTAssertTrue(error.isRetriable, "\(name): \(error)")
            }
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(4), "\(name) gave up in bounded time")
        }

        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: address))
        try producer.send(KafkaProducerMessage(topic: "t", key: nil, value: "lost"))
        let start = ContinuousClock.now
        XCTAssertThrowsError(try producer.flush(timeout: .seconds(1))) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.code, .timedOut)
            XCTAssertTrue(error.message.contains(address) && error.message.contains("1 records"), error.message)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
    }

    // MARK: Topics that do not exist

    /// Subscribing to or assigning a topic that does not exist throws naming
    /// it, and does not create it (the mock, like many brokers, auto-creates
    /// topics named in a metadata request).
    func testMissingTopicIsRefusedByNameAndNotCreated() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("present", partitions: 2)
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(
            bootstrap: cluster.bootstrapServers, groupID: KafkaTestEnvironment.uniqueName("missing")))
        defer { try? consumer.close() }

        XCTAssertThrowsError(try consumer.subscribe(topics: ["present", "absent"])) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .unknownTopicOrPartition)
            XCTAssertTrue("\(error)".contains("'absent'"), "\(error)")
        }
        XCTAssertThrowsError(try consumer.assign([KafkaTopicPartition(topic: "absent-too", partition: 0): .beginning])) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .unknownTopicOrPartition)
            XCTAssertTrue("\(error)".contains("'absent-too'"), "\(error)")
        }
        XCTAssertThrowsError(try consumer.assign([KafkaTopicPartition(topic: "present", partition: 2): .beginning])) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .unknownPartition)
            XCTAssertTrue("\(error)".contains("present[2]") && "\(error)".contains("2 partitions"), "\(error)")
        }
        XCTAssertThrowsError(try consumer.partitionCount(of: "")) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .invalidArgument, "\(error)")
        }
        let topics = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers).listTopics()
        XCTAssertEqual(topics, ["present"], "asking about a topic must not create it")
    }

    /// Producing to a partition the topic does not have fails naming it: at
    /// once when the producer knows the topic, at the latest in flush (and in
    /// the async send) when it does not yet.
    func testSendToAMissingPartitionThrowsNamingIt() async throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("two", partitions: 2)
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? producer.close() }
        let sendNow: (KafkaProducerMessage) throws -> UInt = producer.send
        let flushNow: (Duration) throws -> Void = producer.flush
        let beyond = KafkaProducerMessage(topic: "two", partition: 7, key: nil, value: "nowhere")

        // The producer has no metadata yet: the failure comes with the delivery report.
        XCTAssertThrowsError(try { _ = try sendNow(beyond); try flushNow(.seconds(10)) }()) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .unknownPartition, "\(error)")
            XCTAssertTrue("\(error)".contains("two[7]"), "\(error)")
        }
        // Now it knows the topic has 2 partitions: send itself throws.
        XCTAssertThrowsError(try sendNow(beyond)) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .unknownPartition, "\(error)")
            XCTAssertTrue("\(error)".contains("two[7]") && "\(error)".contains("partition count"), "\(error)")
        }
        do {
            let report: KafkaDeliveryReport = try await producer.send(beyond)
            XCTFail("async send to a missing partition succeeded: \(report)")
        } catch let error as KafkaError {
            XCTAssertEqual(error.code, .unknownPartition, "\(error)")
        }
        XCTAssertNoThrow(try flushNow(.seconds(10)), "the failures were reported once; the producer is fine")
    }

    // MARK: Misuse

    /// subscribe without a group id is refused naming the setting.
    func testSubscribeWithoutAGroupIsRefusedNamingGroupID() throws {
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: "127.0.0.1:1"))
        defer { try? consumer.close() }
        XCTAssertThrowsError(try consumer.subscribe(topics: ["t"])) { error in
            XCTAssertEqual((error as? KafkaError)?.setting, "group.id", "\(error)")
        }
        XCTAssertThrowsError(try consumer.subscribe(pattern: "t.*")) { error in
            XCTAssertEqual((error as? KafkaError)?.setting, "group.id", "\(error)")
        }
    }

    /// After close every consumer call throws a `state` error saying the
    /// client is closed; closing again is harmless. Same for the producer.
    func testCallsAfterCloseThrowAndDoubleCloseIsHarmless() async throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 1)
        let partition = KafkaTopicPartition(topic: "t", partition: 0)
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(
            bootstrap: cluster.bootstrapServers, groupID: KafkaTestEnvironment.uniqueName("closed")))
        let closeNow: () throws -> Void = consumer.close
        try consumer.assign([partition: .beginning])
        try closeNow()
        XCTAssertNoThrow(try closeNow(), "double close is harmless")
        try await consumer.close()
        let streamEnded = expectation(description: "the events stream ends at close")
        let stream = consumer.events
        Task {
            for await _ in stream {}
            streamEnded.fulfill()
        }
        await fulfillment(of: [streamEnded], timeout: 5)

        let calls: [(String, () throws -> Void)] = [
            ("poll", { _ = try consumer.poll() }),
            ("assign", { try consumer.assign([partition: .beginning]) }),
            ("subscribe", { try consumer.subscribe(topics: ["t"]) }),
            ("seek", { try consumer.seek(partition, to: .beginning) }),
            ("pause", { try consumer.pause([partition]) }),
            ("position", { _ = try consumer.position([partition]) }),
            ("committed", { _ = try consumer.committed([partition]) }),
            ("commit", { try consumer.commit([partition: 1]) }),
            ("commitAsync", { try consumer.commitAsync([partition: 1]) }),
            ("watermarks", { _ = try consumer.watermarks(of: partition) }),
            ("groupMetadata", { _ = try consumer.groupMetadata() }),
        ]
        for (name, call) in calls {
            XCTAssertThrowsError(try call(), name) { error in
                guard let error = error as? KafkaError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(error.code, .state, name)
                XCTAssertTrue(error.message.contains("closed"), "\(name): \(error.message)")
            }
        }
        do {
            _ = try await consumer.records()
            XCTFail("async fetch after close succeeded")
        } catch let error as KafkaError {
            XCTAssertEqual(error.code, .state)
        }

        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers))
        let sendNow: (KafkaProducerMessage) throws -> UInt = producer.send
        try producer.close()
        XCTAssertNoThrow(try producer.close(timeout: .seconds(1)), "double close is harmless")
        XCTAssertThrowsError(try sendNow(KafkaProducerMessage(topic: "t", key: nil, value: "late"))) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .state, "\(error)")
            XCTAssertTrue("\(error)".contains("closed"), "\(error)")
        }
        XCTAssertThrowsError(try producer.beginTransaction()) { error in
            XCTAssertEqual((error as? KafkaError)?.code, .state, "\(error)")
        }
    }

    private func assertConfigurationError<T>(
        _ body: @autoclosure () throws -> T, setting: String, librdkafkaSays text: String, mentions value: String? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? KafkaError else { return XCTFail("\(error) is not a KafkaError", file: file, line: line) }
            XCTAssertEqual(error.code, .invalidConfiguration, "\(error)", file: file, line: line)
            XCTAssertEqual(error.setting, setting, "\(error)", file: file, line: line)
            XCTAssertTrue(error.message.contains("'\(setting)'"), error.message, file: file, line: line)
            XCTAssertTrue(error.message.contains(text), "librdkafka's message missing: \(error.message)", file: file, line: line)
            if let value { XCTAssertTrue(error.message.contains(value), error.message, file: file, line: line) }
        }
    }
}
