import CRdKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a fetched batch of `rd_kafka_message_t`s into a ``KafkaRecordBatch``.
///
/// The keys and values of one batch are copied once, all into one Swift
/// array, and the other fields into one array each: a handful of
/// allocations per poll instead of one or two per record (per-record arrays
/// made the consumer spend its time in `malloc`/`free`, contended with
/// librdkafka's threads). Topic names are resolved once per topic handle.
struct RDKafkaRecordDecoder: Sendable {
    /// Topic names keyed by the address of librdkafka's topic handle.
    private var topicNames: [UInt: String] = [:]
    /// Whether records get their headers (see `KafkaConsumerConfiguration.readsHeaders`).
    var readsHeaders = true

    mutating func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(rkt)))
        if let name = topicNames[address] { return name }
        let name = rd_kafka_topic_name(rkt).map { String(cString: $0) } ?? ""
        topicNames[address] = name
        return name
    }

    /// Decodes the messages without an error (the others are left to the
    /// caller); does not destroy any message.
    mutating func batch(
        from messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int
    ) -> KafkaRecordBatch {
        var columns = KafkaRecordBatch.Columns()
        columns.reserveCapacity(count)
        var topics: [String] = []
        var topicIndices: [UInt: Int32] = [:]
        // A poll is mostly one topic: the last handle's index is reused.
        var lastIndex: (address: UInt, index: Int32)?
        var headers: [Int: [KafkaHeader]] = [:]
        var total = 0
        for index in 0..<count {
            guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let m = message.pointee
            let address = m.rkt.map { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer($0))) } ?? 0
            let topicIndex: Int32
            if let lastIndex, lastIndex.address == address {
                topicIndex = lastIndex.index
            } else if let known = topicIndices[address] {
                topicIndex = known
            } else {
                topicIndex = Int32(topics.count)
                topics.append(topicName(m.rkt))
                topicIndices[address] = topicIndex
            }
            lastIndex = (address, topicIndex)
            let keyLength = m.key == nil ? -1 : m.key_len
            let valueLength = m.payload == nil ? 0 : m.len
            var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &timestampType)
            let kind: KafkaRecordBatch.TimestampKind = switch timestampType {
            case RD_KAFKA_TIMESTAMP_CREATE_TIME: .createTime
            case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: .logAppendTime
            default: .none
            }
            let start = total
            total += max(0, keyLength) + valueLength
            columns.append(topicIndex: topicIndex, partition: m.partition, offset: m.offset, timestamp: timestamp, kind: kind,
                           start: start, keyLength: keyLength, end: total)
            if readsHeaders {
                let recordHeaders = Self.headers(of: message)
                if !recordHeaders.isEmpty { headers[columns.partitions.count - 1] = recordHeaders }
            }
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var position = 0
            for index in 0..<count {
                guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR,
                      let base = buffer.baseAddress else { continue }
                let m = message.pointee
                if let key = m.key, m.key_len > 0 {
                    memcpy(base + position, key, m.key_len)
                    position += m.key_len
                }
                if let payload = m.payload, m.len > 0 {
                    memcpy(base + position, payload, m.len)
                    position += m.len
                }
            }
            initialized = position
        }
        return KafkaRecordBatch(topics: topics, bytes: bytes, columns: columns, headers: headers)
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
