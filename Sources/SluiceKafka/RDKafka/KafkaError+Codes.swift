import CRdKafka

// The well-known codes, taken from librdkafka's own constants so they can
// never drift from the C values.
extension KafkaError.Code {
    init(_ err: rd_kafka_resp_err_t) { self.init(rawValue: err.rawValue) }

    /// No error.
    public static let noError = Self(RD_KAFKA_RESP_ERR_NO_ERROR)
    /// A configuration property was unknown or had a bad value.
    public static let invalidConfiguration = Self(RD_KAFKA_RESP_ERR__INVALID_ARG)
    /// An argument passed to an API call was invalid.
    public static let invalidArgument = Self(RD_KAFKA_RESP_ERR__INVALID_ARG)
    /// A blocking call did not complete in time.
    public static let timedOut = Self(RD_KAFKA_RESP_ERR__TIMED_OUT)
    /// No broker in the bootstrap list could be reached.
    public static let allBrokersDown = Self(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    /// A transport (connection) failure.
    public static let transport = Self(RD_KAFKA_RESP_ERR__TRANSPORT)
    /// A bootstrap address could not be resolved.
    public static let resolve = Self(RD_KAFKA_RESP_ERR__RESOLVE)
    /// The topic or partition does not exist on the cluster.
    public static let unknownTopicOrPartition = Self(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    /// The topic is not known to the client.
    public static let unknownTopic = Self(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
    /// The partition is not known to the client.
    public static let unknownPartition = Self(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
    /// The local producer queue is full.
    public static let queueFull = Self(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    /// The call is not allowed in the client's current state (for example,
    /// the client is closed, or a transaction was not begun).
    public static let state = Self(RD_KAFKA_RESP_ERR__STATE)
    /// The feature needs a setting that is not configured (for example, the
    /// transactional API without `transactional.id`).
    public static let notConfigured = Self(RD_KAFKA_RESP_ERR__NOT_CONFIGURED)
    /// A fatal error was raised earlier; the client must be recreated.
    public static let fatal = Self(RD_KAFKA_RESP_ERR__FATAL)
    /// The offset is out of range for the partition.
    public static let offsetOutOfRange = Self(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
    /// No committed offset and `auto.offset.reset` is `error`, or the reset failed.
    public static let autoOffsetReset = Self(RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
    /// The consumer did not poll within `max.poll.interval.ms` and left the group.
    public static let maxPollExceeded = Self(RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED)
    /// The client may not read or write this topic.
    public static let topicAuthorizationFailed = Self(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
    /// The client may not use this consumer group.
    public static let groupAuthorizationFailed = Self(RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
    /// The consumer group is rebalancing.
    public static let rebalanceInProgress = Self(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
    /// Another producer with the same transactional id took over.
    public static let producerFenced = Self(RD_KAFKA_RESP_ERR__FENCED)
    /// The message could not be delivered before `message.timeout.ms`.
    public static let messageTimedOut = Self(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
    /// There were no offsets to commit.
    public static let noOffset = Self(RD_KAFKA_RESP_ERR__NO_OFFSET)
    /// A generic failure.
    public static let fail = Self(RD_KAFKA_RESP_ERR__FAIL)
    /// The operation is not supported (for example, by the mock cluster).
    public static let notImplemented = Self(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
    /// The handle was destroyed while the call was in progress.
    public static let destroyed = Self(RD_KAFKA_RESP_ERR__DESTROY)
    /// The topic already exists.
    public static let topicAlreadyExists = Self(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    /// The broker is not available.
    public static let brokerNotAvailable = Self(RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE)
}

extension KafkaError {
    /// Whether the record was purged from the producer's queues (by
    /// `abortTransaction`) rather than refused by the cluster.
    var isPurge: Bool {
        code.rawValue == RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue || code.rawValue == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue
    }
}

enum RDKafkaErrorNames {
    static func name(of raw: Int32) -> String {
        guard let cName = rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: raw)) else { return "ERR_\(raw)" }
        return String(cString: cName)
    }

    static func text(of raw: Int32) -> String {
        guard let cText = rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: raw)) else { return "error \(raw)" }
        return String(cString: cText)
    }
}

extension KafkaError {
    /// An error from a plain response code, with librdkafka's text and a
    /// context prefix ("commit offsets for orders[2]").
    init(_ err: rd_kafka_resp_err_t, _ context: String) {
        let code = Code(err)
        let retriable: Bool
        switch err {
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__QUEUE_FULL,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
            RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
            RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR__WAIT_COORD,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            retriable = true
        default:
            retriable = false
        }
        self.init(
            code: code,
            message: "\(context): \(RDKafkaErrorNames.text(of: err.rawValue))",
            isRetriable: retriable,
            isFatal: err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__FENCED
        )
    }

    /// Takes ownership of an `rd_kafka_error_t` (destroying it) and keeps
    /// librdkafka's own classification of it.
    init(consuming error: OpaquePointer, _ context: String) {
        let err = rd_kafka_error_code(error)
        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? RDKafkaErrorNames.text(of: err.rawValue)
        self.init(
            code: Code(err),
            message: "\(context): \(text)",
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            requiresTransactionAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
        rd_kafka_error_destroy(error)
    }
}
