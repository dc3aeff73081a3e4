import CRdKafka
import Logging
import Synchronization

/// The context every librdkafka callback of one client receives as its
/// opaque pointer. It is owned by ``RDKafkaClient`` and outlives the handle,
/// so the callbacks take it unretained.
final class RDKafkaCallbacks: Sendable {
    let logger: Logger
    /// Called on the polling thread for rebalance and commit events, and for
    /// errors librdkafka reports outside a call. Set once: closures kept in
    /// a generic lock and read back per call pile up reabstraction thunks.
    let onConsumerEvent: (@Sendable (KafkaConsumerEvent) -> Void)?
    /// Called on the producer's poll thread for each delivery report.
    let onDelivery: (@Sendable (RDKafkaDelivery) -> Void)?
    /// Supplies OAUTHBEARER tokens, called on librdkafka's background thread.
    let oauthBearerToken: (@Sendable () throws -> KafkaOAuthBearerToken)?
    /// The last error librdkafka reported through its error callback.
    let lastError: Mutex<KafkaError?> = Mutex(nil)

    init(
        logger: Logger,
        security: KafkaSecurityOptions = KafkaSecurityOptions(),
        onConsumerEvent: (@Sendable (KafkaConsumerEvent) -> Void)? = nil,
        onDelivery: (@Sendable (RDKafkaDelivery) -> Void)? = nil
    ) {
        self.logger = logger
        self.oauthBearerToken = security.securityProtocol.usesSASL && security.sasl.mechanism == .oauthBearer
            ? security.sasl.oauthBearerToken : nil
        self.onConsumerEvent = onConsumerEvent
        self.onDelivery = onDelivery
    }

    func install(on conf: OpaquePointer, kind: RDKafkaClient.Kind) {
        // Unretained: RDKafkaClient keeps this object alive until after rd_kafka_destroy.
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf, rdkafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, rdkafkaErrorCallback)
        switch kind {
        case .consumer:
            rd_kafka_conf_set_rebalance_cb(conf, rdkafkaRebalanceCallback)
            rd_kafka_conf_set_offset_commit_cb(conf, rdkafkaOffsetCommitCallback)
        case .producer:
            rd_kafka_conf_set_dr_msg_cb(conf, rdkafkaDeliveryCallback)
        }
        if oauthBearerToken != nil { installTokenRefresh(on: conf) }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> RDKafkaCallbacks? {
        guard let opaque else { return nil }
        return Unmanaged<RDKafkaCallbacks>.fromOpaque(opaque).takeUnretainedValue()
    }

    func emit(_ event: KafkaConsumerEvent) {
        onConsumerEvent?(event)
    }
}

/// A delivery report as the producer sees it before it is made public.
struct RDKafkaDelivery: Sendable {
    var id: UInt
    var topic: String
    var partition: Int32
    var offset: Int64
    var error: KafkaError?
}

private func callbacks(of rk: OpaquePointer?) -> RDKafkaCallbacks? {
    guard let rk else { return nil }
    return RDKafkaCallbacks.from(rd_kafka_opaque(rk))
}

private let rdkafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    rk, level, facility, message in
    guard let context = callbacks(of: rk) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    // syslog levels: 0 emerg … 7 debug
    let logLevel: Logger.Level
    switch level {
    case ...3: logLevel = .error
    case 4: logLevel = .warning
    case 5, 6: logLevel = .info
    default: logLevel = .debug
    }
    context.logger.log(level: logLevel, "librdkafka \(fac): \(text)")
}

private let rdkafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, reason, opaque in
    guard let context = RDKafkaCallbacks.from(opaque) else { return }
    let code = rd_kafka_resp_err_t(rawValue: err)
    var error = KafkaError(code, "librdkafka")
    if let reason { error.message = String(cString: reason) }
    if code == RD_KAFKA_RESP_ERR__FATAL { error.isFatal = true }
    context.lastError.withLock { $0 = error }
    context.logger.warning("kafka client error: \(error)")
    context.emit(.error(error))
}

private let rdkafkaRebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { rk, err, partitions, opaque in
    guard let rk else { return }
    let context = RDKafkaCallbacks.from(opaque)
    let list = partitions.map { RDKafkaTopicPartitionList(borrowing: $0) }
    let topicPartitions = list?.partitions ?? []
    let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"

    switch err {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if cooperative {
            if let failure = rd_kafka_incremental_assign(rk, partitions) {
                let error = KafkaError(consuming: failure, "incremental assign of \(topicPartitions)")
                context?.logger.error("\(error)")
                context?.emit(.error(error))
            }
        } else {
            let result = rd_kafka_assign(rk, partitions)
            if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                context?.emit(.error(KafkaError(result, "assign \(topicPartitions)")))
            }
        }
        // Tell the application after the assignment took effect, so it can seek.
        context?.emit(.assigned(topicPartitions))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        let lost = rd_kafka_assignment_lost(rk) != 0
        // Tell the application first, so it can finish and commit the batch
        // in flight while it still owns the partitions.
        context?.emit(lost ? .lost(topicPartitions) : .revoked(topicPartitions))
        if cooperative {
            if let failure = rd_kafka_incremental_unassign(rk, partitions) {
                context?.emit(.error(KafkaError(consuming: failure, "incremental unassign of \(topicPartitions)")))
            }
        } else {
            _ = rd_kafka_assign(rk, nil)
        }
    default:
        context?.emit(.error(KafkaError(err, "rebalance failed")))
        _ = rd_kafka_assign(rk, nil)
    }
}

private let rdkafkaOffsetCommitCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { _, err, offsets, opaque in
    guard let context = RDKafkaCallbacks.from(opaque) else { return }
    var committed: [KafkaTopicPartition: Int64] = [:]
    var failure: KafkaError? = nil
    if let offsets {
        for element in RDKafkaTopicPartitionList(borrowing: offsets).elements {
            committed[element.partition] = element.offset
            if element.error != RD_KAFKA_RESP_ERR_NO_ERROR, failure == nil {
                failure = KafkaError(element.error, "commit offset \(element.offset) of \(element.partition)")
            }
        }
    }
    if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
        failure = KafkaError(err, "commit offsets \(committed.offsetsDescription)")
    }
    context.emit(.committed(committed, failure))
}

private let rdkafkaDeliveryCallback: @convention(c) (
    OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?
) -> Void = { _, message, opaque in
    guard let context = RDKafkaCallbacks.from(opaque), let message else { return }
    let m = message.pointee
    let topic = m.rkt.flatMap { rd_kafka_topic_name($0) }.map { String(cString: $0) } ?? ""
    let error: KafkaError? =
        m.err == RD_KAFKA_RESP_ERR_NO_ERROR
        ? nil : KafkaError(m.err, "delivery to \(topic)[\(m.partition)]")
    let delivery = RDKafkaDelivery(
        id: UInt(bitPattern: m._private), topic: topic, partition: m.partition, offset: m.offset, error: error)
    context.onDelivery?(delivery)
}
