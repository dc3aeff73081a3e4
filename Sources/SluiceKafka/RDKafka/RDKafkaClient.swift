import CRdKafka
import Foundation
import Logging

/// Owns one `rd_kafka_t` (and the consumer queue, for consumers) and the
/// callback context librdkafka calls back into. The handle is destroyed in
/// `deinit`, after the queue and before the callback context.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind {
        case consumer, producer

        var cType: rd_kafka_type_t { self == .consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER }
    }

    let kind: Kind
    /// Never nil after init; kept as a let so calls need no unwrap.
    let handle: OpaquePointer
    /// The consumer queue (consumers only); destroyed before the handle.
    let consumerQueue: OpaquePointer?
    /// Receives every callback; owned here so it outlives the handle.
    let callbacks: RDKafkaCallbacks
    let bootstrapServers: String

    /// Checks `security` (contradictions, missing credentials and files, the
    /// librdkafka features it needs) before any property is set.
    init(
        kind: Kind,
        properties: [(name: String, value: String)],
        security: KafkaSecurityOptions,
        callbacks: RDKafkaCallbacks,
        bootstrapServers: String
    ) throws {
        try security.checkAtStart(properties: properties)
        let config = try RDKafkaConfig(properties: properties)
        guard let conf = config.pointer else {
            throw KafkaError(code: .fail, message: "librdkafka configuration was already consumed")
        }
        callbacks.install(on: conf, kind: kind)

        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(kind.cType, conf, &errorText, errorText.count) else {
            let text = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .invalidConfiguration, message: "librdkafka could not create the \(kind) client: \(text)")
        }
        // rd_kafka_new took ownership of the conf on success.
        config.releaseOwnership()
        if callbacks.oauthBearerToken != nil {
            do {
                try callbacks.enableTokenRefreshInBackground(on: handle)
            } catch {
                rd_kafka_destroy(handle)
                throw error
            }
        }
        self.kind = kind
        self.handle = handle
        self.callbacks = callbacks
        self.bootstrapServers = bootstrapServers

        if kind == .consumer {
            // Route rebalance, error and commit events to the consumer queue so
            // the batch fetch serves them, then keep the queue for fetching.
            rd_kafka_poll_set_consumer(handle)
            consumerQueue = rd_kafka_queue_get_consumer(handle)
        } else {
            consumerQueue = nil
        }
    }

    deinit {
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        rd_kafka_destroy(handle)
        // `callbacks` is released after this, once librdkafka can no longer call it.
    }

    /// librdkafka's fatal error, if one was raised.
    func raisedFatalError() -> KafkaError? {
        var text = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &text, text.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var error = KafkaError(err, "fatal error")
        error.message = "fatal error \(RDKafkaErrorNames.name(of: err.rawValue)): \(message); close this client and create a new one"
        error.isFatal = true
        error.isRetriable = false
        return error
    }

    /// Fetches metadata for one topic, or all topics when `topic` is nil.
    ///
    /// A request naming one topic makes brokers with topic auto-creation on
    /// (librdkafka's mock cluster always, many real brokers by default)
    /// create it with default settings, so a typo would silently become a
    /// new topic. The request therefore always asks for all topics and the
    /// caller's topic is filtered out of the answer: an unknown topic is
    /// simply absent.
    func metadata(topic: String?, timeout: Duration) throws -> KafkaClusterMetadata {
        if let topic, topic.isEmpty || topic.utf8.count > 249 {
            throw KafkaError(code: .invalidArgument, message: "topic name '\(topic)' is not valid")
        }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(timeout.timeoutMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            var error = KafkaError(err, "metadata request to \(bootstrapServers) failed")
            if err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT {
                error.message = "cannot reach the Kafka cluster at \(bootstrapServers) within \(timeout): "
                    + "\(RDKafkaErrorNames.text(of: err.rawValue)); check the bootstrap servers setting"
            }
            throw error
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let all = KafkaClusterMetadata(metadata.pointee)
        guard let topic else { return all }
        return KafkaClusterMetadata(brokers: all.brokers, topics: all.topics.filter { $0.name == topic })
    }

    /// Low and high watermarks, asked of the partition leader.
    func queryWatermarks(_ partition: KafkaTopicPartition, timeout: Duration) throws -> KafkaWatermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(
            handle, partition.topic, partition.partition, &low, &high, Int32(timeout.timeoutMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, "watermarks of \(partition)")
        }
        return KafkaWatermarks(low: low, high: high)
    }
}

extension KafkaClusterMetadata {
    init(_ md: rd_kafka_metadata) {
        var brokers: [KafkaBrokerMetadata] = []
        for index in 0..<Int(md.broker_cnt) {
            guard let broker = md.brokers?[index] else { continue }
            brokers.append(KafkaBrokerMetadata(
                id: broker.id, host: broker.host.map { String(cString: $0) } ?? "", port: Int(broker.port)))
        }
        var topics: [KafkaTopicMetadata] = []
        for index in 0..<Int(md.topic_cnt) {
            guard let topic = md.topics?[index] else { continue }
            var partitions: [KafkaPartitionMetadata] = []
            for p in 0..<Int(topic.partition_cnt) {
                guard let partition = topic.partitions?[p] else { continue }
                let replicas = (0..<Int(partition.replica_cnt)).compactMap { partition.replicas?[$0] }
                let isrs = (0..<Int(partition.isr_cnt)).compactMap { partition.isrs?[$0] }
                partitions.append(KafkaPartitionMetadata(
                    id: partition.id, leader: partition.leader, replicas: replicas, inSyncReplicas: isrs,
                    error: partition.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(partition.err)))
            }
            topics.append(KafkaTopicMetadata(
                name: topic.topic.map { String(cString: $0) } ?? "",
                partitions: partitions.sorted { $0.id < $1.id },
                error: topic.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(topic.err)))
        }
        self.init(brokers: brokers, topics: topics)
    }
}
