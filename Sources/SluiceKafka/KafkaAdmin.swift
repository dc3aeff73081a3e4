import CRdKafka
import Logging

/// Topic administration: create, delete and describe topics.
public final class KafkaAdmin: Sendable {
    let client: RDKafkaClient

    /// Connects to the cluster with `security` (the cluster's TLS and SASL
    /// settings); `security` and `additionalProperties` are validated here.
    public init(
        bootstrapServers: String, security: KafkaSecurityOptions = KafkaSecurityOptions(),
        additionalProperties: [String: String] = [:],
        logger: Logger = Logger(label: "sluice.kafka.admin")
    ) throws {
        var properties: [(name: String, value: String)] = [("bootstrap.servers", bootstrapServers), ("client.id", "sluice-admin")]
        properties += security.librdkafkaProperties
        properties += additionalProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        client = try RDKafkaClient(
            kind: .producer, properties: properties, security: security,
            callbacks: RDKafkaCallbacks(logger: logger, security: security),
            bootstrapServers: bootstrapServers)
    }

    /// Creates a topic. *Blocking*. Throws `topicAlreadyExists` when it exists.
    public func createTopic(
        _ name: String, partitions: Int32, replicationFactor: Int32 = 1, config: [String: String] = [:],
        timeout: Duration = .seconds(30)
    ) throws {
        guard partitions > 0 else {
            throw KafkaError(code: .invalidArgument, message: "create topic '\(name)': partitions must be at least 1, not \(partitions)")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, partitions, replicationFactor, &errorText, errorText.count) else {
            let text = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .invalidArgument, message: "create topic '\(name)': \(text)")
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        for (key, value) in config.sorted(by: { $0.key < $1.key }) {
            let err = rd_kafka_NewTopic_set_config(topic, key, value)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "topic '\(name)' setting '\(key)'") }
        }
        var topics: [OpaquePointer?] = [topic]
        try runAdmin("create topic '\(name)'", timeout: timeout, expecting: RD_KAFKA_EVENT_CREATETOPICS_RESULT) { options, queue in
            rd_kafka_CreateTopics(client.handle, &topics, 1, options, queue)
        } results: { event in
            guard let result = rd_kafka_event_CreateTopics_result(event) else { return [] }
            var count = 0
            guard let list = rd_kafka_CreateTopics_result_topics(result, &count) else { return [] }
            return (0..<count).compactMap { list[$0] }
        }
    }

    /// Deletes a topic. *Blocking*.
    public func deleteTopic(_ name: String, timeout: Duration = .seconds(30)) throws {
        guard let topic = rd_kafka_DeleteTopic_new(name) else {
            throw KafkaError(code: .invalidArgument, message: "delete topic '\(name)': bad name")
        }
        defer { rd_kafka_DeleteTopic_destroy(topic) }
        var topics: [OpaquePointer?] = [topic]
        try runAdmin("delete topic '\(name)'", timeout: timeout, expecting: RD_KAFKA_EVENT_DELETETOPICS_RESULT) { options, queue in
            rd_kafka_DeleteTopics(client.handle, &topics, 1, options, queue)
        } results: { event in
            guard let result = rd_kafka_event_DeleteTopics_result(event) else { return [] }
            var count = 0
            guard let list = rd_kafka_DeleteTopics_result_topics(result, &count) else { return [] }
            return (0..<count).compactMap { list[$0] }
        }
    }

    /// The partitions of a topic with their leaders and replicas. *Blocking*.
    /// Throws `unknownTopicOrPartition` naming the topic when it does not exist.
    public func describeTopic(_ name: String, timeout: Duration = .seconds(10)) throws -> KafkaTopicMetadata {
        let metadata = try client.metadata(topic: nil, timeout: timeout)
        guard let topic = metadata.topics.first(where: { $0.name == name }) else {
            throw KafkaError(code: .unknownTopicOrPartition, message: "topic '\(name)' does not exist on \(client.bootstrapServers)")
        }
        if let error = topic.error {
            throw KafkaError(code: error, message: "topic '\(name)' on \(client.bootstrapServers): \(error.name)")
        }
        return topic
    }

    /// The names of all topics, sorted. *Blocking*.
    public func listTopics(timeout: Duration = .seconds(10)) throws -> [String] {
        try client.metadata(topic: nil, timeout: timeout).topics.map(\.name).sorted()
    }

    /// Brokers and topics as the cluster describes them. *Blocking*.
    public func metadata(timeout: Duration = .seconds(10)) throws -> KafkaClusterMetadata {
        try client.metadata(topic: nil, timeout: timeout)
    }

    /// Low and high watermarks of a partition. *Blocking*.
    public func watermarks(of partition: KafkaTopicPartition, timeout: Duration = .seconds(10)) throws -> KafkaWatermarks {
        try client.queryWatermarks(partition, timeout: timeout)
    }

    /// Runs one admin request on a private queue and turns its per-topic
    /// results into errors.
    private func runAdmin(
        _ what: String, timeout: Duration, expecting type: Int32,
        request: (OpaquePointer?, OpaquePointer?) -> Void,
        results: (OpaquePointer) -> [OpaquePointer]
    ) throws {
        guard let queue = rd_kafka_queue_new(client.handle) else {
            throw KafkaError(code: .fail, message: "\(what): could not create a result queue")
        }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(client.handle, RD_KAFKA_ADMIN_OP_ANY)
        defer { if let options { rd_kafka_AdminOptions_destroy(options) } }
        if let options {
            var errorText = [CChar](repeating: 0, count: 256)
            _ = rd_kafka_AdminOptions_set_request_timeout(options, Int32(timeout.timeoutMilliseconds), &errorText, errorText.count)
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, Int32(timeout.timeoutMilliseconds), &errorText, errorText.count)
        }
        request(options, queue)
        // The request timeout bounds the wait; add a margin for the reply.
        guard let event = rd_kafka_queue_poll(queue, Int32(timeout.timeoutMilliseconds) + 5_000) else {
            throw KafkaError(code: .timedOut, message: "\(what): no answer from \(client.bootstrapServers) within \(timeout)", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            var error = KafkaError(err, what)
            if let text = rd_kafka_event_error_string(event) { error.message = "\(what): \(String(cString: text))" }
            if error.message.contains("waiting for controller") {
                // librdkafka 2.0.2's mock cluster names no controller, so
                // admin requests wait out their whole timeout there.
                error.message += "; \(client.bootstrapServers) names no controller broker "
                    + "(librdkafka's mock cluster has none: create its topics with MockCluster.createTopic)"
            }
            throw error
        }
        for topicResult in results(event) {
            let topicErr = rd_kafka_topic_result_error(topicResult)
            if topicErr != RD_KAFKA_RESP_ERR_NO_ERROR {
                var error = KafkaError(topicErr, what)
                if let text = rd_kafka_topic_result_error_string(topicResult) { error.message = "\(what): \(String(cString: text))" }
                throw error
            }
        }
    }
}
