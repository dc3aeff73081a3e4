import CRdKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a fetched batch of `rd_kafka_message_t`s into a ``KafkaRecordBatch``
/// and destroys them.
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

    /// Decodes the messages without an error and destroys every message.
    /// Returns the records and the error of the first message that has one
    /// (partition ends aside).
    ///
    /// Each message is read whole and destroyed in one pass, after a pass
    /// that only sums the sizes of the keys and values (so that their bytes
    /// get one allocation of the right size): a message visited again after
    /// the thousands of others of a poll has left the cache, and every
    /// visit then waits for memory (perf had a 10,000-message poll's second
    /// and third passes, the copy and the destroy, stalled on their first
    /// load of each message).
    mutating func drain(
        _ messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int
    ) -> (records: KafkaRecordBatch, firstError: KafkaError?) {
        var total = 0
        var decodable = 0
        for index in 0..<count {
            guard let message = messages[index], message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            if message.pointee.key != nil { total += message.pointee.key_len }
            if message.pointee.payload != nil { total += message.pointee.len }
            decodable += 1
        }
        let columns = KafkaRecordBatch.ColumnWriter(capacity: decodable)
        var topics: [String] = []
        var topicIndices: [UInt: Int32] = [:]
        // A poll is mostly one topic: the last handle's index is reused.
        var lastTopic: (address: UInt, index: Int32)?
        var headers: [Int: [KafkaHeader]] = [:]
        var firstError: KafkaError?
        let bytes = [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            var position = 0
            for index in 0..<count {
                guard let message = messages[index] else { continue }
                defer { rd_kafka_message_destroy(message) }
                let m = message.pointee
                guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    if firstError == nil { firstError = fetchError(ofErrorMessage: message) }
                    continue
                }
                let address = m.rkt.map { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer($0))) } ?? 0
                let topicIndex: Int32
                if let lastTopic, lastTopic.address == address {
                    topicIndex = lastTopic.index
                } else if let known = topicIndices[address] {
                    topicIndex = known
                } else {
                    topicIndex = Int32(topics.count)
                    topics.append(topicName(m.rkt))
                    topicIndices[address] = topicIndex
                }
                lastTopic = (address, topicIndex)
                let (timestamp, kind) = Self.timestamp(of: message)
                let start = position
                if let key = m.key { Self.copy(key, m.key_len, into: buffer, at: &position) }
                let keyLength = m.key == nil ? -1 : position - start
                if let payload = m.payload { Self.copy(payload, m.len, into: buffer, at: &position) }
                columns.append(topicIndex: topicIndex, partition: m.partition, offset: m.offset, timestamp: timestamp, kind: kind,
                               keyLength: keyLength, end: position)
                if readsHeaders {
                    let recordHeaders = Self.headers(of: message)
                    if !recordHeaders.isEmpty { headers[columns.count - 1] = recordHeaders }
                }
            }
            initialized = position
        }
        return (KafkaRecordBatch(topics: topics, bytes: bytes, columns: columns.columns(), headers: headers), firstError)
    }

    /// Copies `count` bytes to `buffer` at `position` and advances it; copies
    /// nothing if they do not fit (they always do: the buffer was sized from
    /// the same lengths).
    @inline(__always)
    private static func copy(
        _ source: UnsafeRawPointer, _ count: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at position: inout Int
    ) {
        guard count > 0, count <= buffer.count - position, let base = buffer.baseAddress else { return }
        memcpy(base + position, source, count)
        position += count
    }

    /// The timestamp of a message in milliseconds, and its kind.
    @inline(__always)
    static func timestamp(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> (Int64, KafkaRecordBatch.TimestampKind) {
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        let kind: KafkaRecordBatch.TimestampKind = switch timestampType {
        case RD_KAFKA_TIMESTAMP_CREATE_TIME: .createTime
        case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: .logAppendTime
        default: .none
        }
        return (timestamp, kind)
    }

    /// The error of a message whose `err` is set, or `nil` for a partition
    /// end (librdkafka's notice that the consumer caught up, not an error).
    mutating func fetchError(ofErrorMessage message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaError? {
        message.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF ? nil : fetchError(message)
    }

    /// The error a message carries, naming its topic, partition and offset.
    mutating func fetchError(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaError {
        let m = message.pointee
        let topic = topicName(m.rkt)
        let place = topic.isEmpty ? "consumer" : "\(topic)[\(m.partition)] at offset \(m.offset)"
        var error = KafkaError(m.err, place)
        if let text = rd_kafka_message_errstr(message) {
            error.message = "\(place): \(String(cString: text))"
        }
        if m.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC {
            error.isRetriable = false
            error.message += "; create the topic or fix its name"
        }
        return error
    }

    static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
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

/// What ``RDKafkaRecordDecoder/lend(_:count:to:)`` did with a batch.
struct RDKafkaLendOutcome {
    /// Records whose body call returned.
    var delivered = 0
    /// The first error a message of the batch carried (partition ends aside).
    var firstError: KafkaError?
    /// What the body threw; no record after it was lent.
    var bodyError: (any Error)?
    /// Per partition, the offset of the first record not delivered (the one
    /// whose body threw, and those after it).
    var undelivered: [KafkaTopicPartition: Int64] = [:]
}

extension RDKafkaRecordDecoder {
    /// Lends each message without an error to `body` as a
    /// ``KafkaRecordView`` and destroys it when the body returns; after a
    /// body throws, lends nothing more but still destroys every message and
    /// notes where each partition's undelivered records start. Errors and
    /// partition ends are handled as ``drain(_:count:)`` handles them.
    mutating func lend(
        _ messages: UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, count: Int,
        to body: (borrowing KafkaRecordView) throws -> Void
    ) -> RDKafkaLendOutcome {
        var outcome = RDKafkaLendOutcome()
        // The views read the topic's name here: a poll is mostly one topic,
        // whose name is looked up once.
        let topicName = UnsafeMutablePointer<String>.allocate(capacity: 1)
        topicName.initialize(to: "")
        defer { topicName.deinitialize(count: 1); topicName.deallocate() }
        var lastHandle: OpaquePointer?
        for index in 0..<count {
            guard let message = messages[index] else { continue }
            defer { rd_kafka_message_destroy(message) }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if outcome.firstError == nil { outcome.firstError = fetchError(ofErrorMessage: message) }
                continue
            }
            if lastHandle == nil || message.pointee.rkt != lastHandle {
                topicName.pointee = self.topicName(message.pointee.rkt)
                lastHandle = message.pointee.rkt
            }
            guard outcome.bodyError == nil else {
                let partition = KafkaTopicPartition(topic: topicName.pointee, partition: message.pointee.partition)
                if outcome.undelivered[partition] == nil { outcome.undelivered[partition] = message.pointee.offset }
                continue
            }
            do {
                try body(KafkaRecordView(message: message, topicName: topicName, readsHeaders: readsHeaders))
                outcome.delivered += 1
            } catch {
                outcome.bodyError = error
                outcome.undelivered[KafkaTopicPartition(topic: topicName.pointee, partition: message.pointee.partition)] = message.pointee.offset
            }
        }
        return outcome
    }
}
