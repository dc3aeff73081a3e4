import CRdKafka

/// Turns fetched `rd_kafka_message_t`s into ``KafkaRecord``s, copying each
/// payload exactly once and resolving each topic name once per topic handle.
struct RDKafkaRecordDecoder: Sendable {
    /// Topic names keyed by the address of librdkafka's topic handle.
    private var topicNames: [UInt: String] = [:]

    mutating func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(rkt)))
        if let name = topicNames[address] { return name }
        let name = rd_kafka_topic_name(rkt).map { String(cString: $0) } ?? ""
        topicNames[address] = name
        return name
    }

    mutating func record(from message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaRecord {
        let m = message.pointee
        let value: [UInt8]
        if let payload = m.payload, m.len > 0 {
            value = Array(UnsafeRawBufferPointer(start: payload, count: m.len))
        } else {
            value = []
        }
        let key: [UInt8]? = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }

        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &timestampType)
        let timestamp: KafkaTimestamp?
        switch timestampType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: timestamp = KafkaTimestamp(milliseconds: ts, kind: .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: timestamp = KafkaTimestamp(milliseconds: ts, kind: .logAppendTime)
        default: timestamp = nil
        }

        return KafkaRecord(
            topic: topicName(m.rkt), partition: m.partition, offset: m.offset, timestamp: timestamp,
            key: key, value: value, headers: Self.headers(of: message))
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var headers: OpaquePointer?
        guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return [] }
        var result: [KafkaHeader] = []
        var index = 0
        while true {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR else { break }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            result.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return result
    }
}
