import CRdKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a fetched batch of `rd_kafka_message_t`s into ``KafkaRecord``s.
///
/// The keys and values of one batch are copied once, all into one Swift
/// array, and each record keeps a slice of it: one allocation per poll
/// instead of one or two per record (per-record arrays made the consumer
/// spend its time in `malloc`/`free`, contended with librdkafka's threads).
/// Topic names are resolved once per topic handle.
struct RDKafkaRecordDecoder: Sendable {
    /// Topic names keyed by the address of librdkafka's topic handle.
    private var topicNames: [UInt: String] = [:]
    /// The handle looked up last and its name (a batch is mostly one topic).
    private var lastTopic: (address: UInt, name: String)?

    mutating func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        let address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(rkt)))
        if let lastTopic, lastTopic.address == address { return lastTopic.name }
        let name: String
        if let known = topicNames[address] {
            name = known
        } else {
            name = rd_kafka_topic_name(rkt).map { String(cString: $0) } ?? ""
            topicNames[address] = name
        }
        lastTopic = (address, name)
        return name
    }

    /// Decodes the messages without an error (the others are left to the
    /// caller); does not destroy any message.
    mutating func records(
        from messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int
    ) -> [KafkaRecord] {
        // Where each message's key and value go in the shared buffer.
        var total = 0
        for index in 0..<count {
            guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            total += message.pointee.len + (message.pointee.key == nil ? 0 : message.pointee.key_len)
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var position = 0
            for index in 0..<count {
                guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
                let m = message.pointee
                if let key = m.key, m.key_len > 0, let base = buffer.baseAddress {
                    memcpy(base + position, key, m.key_len)
                    position += m.key_len
                }
                if let payload = m.payload, m.len > 0, let base = buffer.baseAddress {
                    memcpy(base + position, payload, m.len)
                    position += m.len
                }
            }
            initialized = position
        }

        var records: [KafkaRecord] = []
        records.reserveCapacity(count)
        var position = 0
        for index in 0..<count {
            guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let m = message.pointee
            var key: ArraySlice<UInt8>?
            if m.key != nil {
                let keyLength = m.key_len
                key = bytes[position..<position + keyLength]
                position += keyLength
            }
            let valueLength = m.payload == nil ? 0 : m.len
            let value = bytes[position..<position + valueLength]
            position += valueLength
            records.append(KafkaRecord(
                topic: topicName(m.rkt), partition: m.partition, offset: m.offset, timestamp: Self.timestamp(of: message),
                key: key, value: value, headers: Self.headers(of: message)))
        }
        return records
    }

    private static func timestamp(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaTimestamp? {
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let milliseconds = rd_kafka_message_timestamp(message, &timestampType)
        switch timestampType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: return KafkaTimestamp(milliseconds: milliseconds, kind: .createTime)
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: return KafkaTimestamp(milliseconds: milliseconds, kind: .logAppendTime)
        default: return nil
        }
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
