import CRdKafka
import Logging

/// librdkafka's mock Kafka cluster: N brokers speaking the real wire protocol
/// on 127.0.0.1, in this process, for tests and demos without a JVM. Other
/// processes can reach it at ``bootstrapServers`` while it lives.
///
/// It does not emulate transactions, and keeps only ~5 MB per partition
/// (see shared/TESTING.md); produce large inputs with lz4.
public final class MockCluster: Sendable {
    private let owner: MockClusterHandle
    /// `host:port` list of every broker, for `bootstrap.servers`.
    public let bootstrapServers: String
    /// Number of brokers, with ids 1…N.
    public let brokerCount: Int

    /// Starts `brokers` mock brokers on loopback.
    public init(brokers: Int = 3, logger: Logger = Logger(label: "sluice.kafka.mock")) throws {
        guard brokers >= 1 else {
            throw KafkaError(code: .invalidArgument, message: "a mock cluster needs at least 1 broker, not \(brokers)")
        }
        owner = try MockClusterHandle(brokers: Int32(brokers), logger: logger)
        brokerCount = brokers
        bootstrapServers = rd_kafka_mock_cluster_bootstraps(owner.cluster).map { String(cString: $0) } ?? ""
    }

    /// Creates a topic with `partitions` partitions.
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws {
        guard partitions >= 1 else {
            throw KafkaError(code: .invalidArgument, message: "topic '\(name)' needs at least 1 partition, not \(partitions)")
        }
        let err = rd_kafka_mock_topic_create(owner.cluster, name, partitions, min(replicationFactor, Int32(brokerCount)))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "create mock topic '\(name)'") }
    }

    /// Takes a broker down: its connections are closed and refused until ``setBrokerUp(_:)``.
    public func setBrokerDown(_ broker: Int32) throws {
        let err = rd_kafka_mock_broker_set_down(owner.cluster, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "set mock broker \(broker) down") }
    }

    /// Brings a broker taken down back up.
    public func setBrokerUp(_ broker: Int32) throws {
        let err = rd_kafka_mock_broker_set_up(owner.cluster, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "set mock broker \(broker) up") }
    }

    /// Delays every response of a broker by `rtt`.
    public func setRoundTripTime(_ rtt: Duration, broker: Int32) throws {
        let err = rd_kafka_mock_broker_set_rtt(owner.cluster, broker, Int32(rtt.timeoutMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "set mock broker \(broker) rtt") }
    }

    /// Makes `broker` the leader of a partition.
    public func setPartitionLeader(_ partition: KafkaTopicPartition, broker: Int32) throws {
        let err = rd_kafka_mock_partition_set_leader(owner.cluster, partition.topic, partition.partition, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "set leader of \(partition)") }
    }

    /// Makes the next requests of this kind, on any broker, fail with these
    /// errors, one per request, in order.
    public func pushRequestErrors(_ api: KafkaAPI, _ errors: [KafkaError.Code]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        codes.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(owner.cluster, api.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Forgets errors pushed for this kind of request that have not fired yet.
    public func clearRequestErrors(_ api: KafkaAPI) {
        rd_kafka_mock_clear_request_errors(owner.cluster, api.rawValue)
    }

    /// Makes metadata responses report this error for a topic (`.noError` clears it).
    public func setTopicError(_ topic: String, _ code: KafkaError.Code) {
        rd_kafka_mock_topic_set_error(owner.cluster, topic, rd_kafka_resp_err_t(rawValue: code.rawValue))
    }
}

/// Kafka protocol request kinds, for fault injection.
public struct KafkaAPI: Hashable, Sendable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let produce = KafkaAPI(rawValue: 0)
    public static let fetch = KafkaAPI(rawValue: 1)
    public static let listOffsets = KafkaAPI(rawValue: 2)
    public static let metadata = KafkaAPI(rawValue: 3)
    public static let offsetCommit = KafkaAPI(rawValue: 8)
    public static let offsetFetch = KafkaAPI(rawValue: 9)
    public static let findCoordinator = KafkaAPI(rawValue: 10)
    public static let joinGroup = KafkaAPI(rawValue: 11)
    public static let heartbeat = KafkaAPI(rawValue: 12)
    public static let syncGroup = KafkaAPI(rawValue: 14)
    public static let initProducerID = KafkaAPI(rawValue: 22)
    public static let addPartitionsToTxn = KafkaAPI(rawValue: 24)
    public static let addOffsetsToTxn = KafkaAPI(rawValue: 25)
    public static let endTxn = KafkaAPI(rawValue: 26)
    public static let txnOffsetCommit = KafkaAPI(rawValue: 28)
}

/// Owns the mock cluster and the librdkafka handle it runs in; the cluster
/// is destroyed before the handle.
private final class MockClusterHandle: @unchecked Sendable {
    let handle: OpaquePointer
    let cluster: OpaquePointer
    let callbacks: RDKafkaCallbacks

    init(brokers: Int32, logger: Logger) throws {
        callbacks = RDKafkaCallbacks(logger: logger)
        let config = try RDKafkaConfig(properties: [("client.id", "sluice-mock-cluster"), ("log_level", "3")])
        guard let conf = config.pointer else { throw KafkaError(code: .fail, message: "mock cluster configuration missing") }
        callbacks.install(on: conf, kind: .producer)
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            let text = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(code: .fail, message: "could not create the mock cluster's handle: \(text)")
        }
        // rd_kafka_new took ownership of the conf on success.
        config.releaseOwnership()
        guard let cluster = rd_kafka_mock_cluster_new(handle, brokers) else {
            rd_kafka_destroy(handle)
            throw KafkaError(code: .fail, message: "could not start a mock cluster of \(brokers) brokers on 127.0.0.1")
        }
        self.handle = handle
        self.cluster = cluster
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }
}
