import CRdKafka

extension RDKafkaClient {
    /// Which offset a ListOffsets request asks for.
    enum ListOffsetsSpec {
        /// The end of the log: the high watermark, or the last stable offset
        /// when the client reads committed (the request carries the client's
        /// isolation level).
        case end
        /// The log start offset (the low watermark).
        case start

        var timestamp: Int64 { self == .end ? Int64(RD_KAFKA_OFFSET_END) : Int64(RD_KAFKA_OFFSET_BEGINNING) }
    }

    /// One offset per partition from one ListOffsets request per partition
    /// leader (`rd_kafka_offsets_for_times` with the LATEST or EARLIEST
    /// timestamp), all partitions at once. *Blocking*, for at most `timeout`
    /// in all.
    ///
    /// A partition whose leader answered with an error has that error; the
    /// call itself throws only when the request as a whole failed.
    func listOffsets(
        _ partitions: [KafkaTopicPartition], _ spec: ListOffsetsSpec, timeout: Duration
    ) throws -> [KafkaTopicPartition: Result<Int64, KafkaError>] {
        guard !partitions.isEmpty else { return [:] }
        let list = try RDKafkaTopicPartitionList(capacity: partitions.count)
        // The offset field carries the timestamp asked for.
        for partition in partitions { list.add(partition, offset: spec.timestamp) }
        let err = rd_kafka_offsets_for_times(handle, list.pointer, Int32(timeout.timeoutMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, "\(spec) offsets of \(partitions.count) partitions")
        }
        var offsets: [KafkaTopicPartition: Result<Int64, KafkaError>] = [:]
        for element in list.elements {
            if element.error != RD_KAFKA_RESP_ERR_NO_ERROR {
                offsets[element.partition] = .failure(KafkaError(element.error, "\(spec) offset of \(element.partition)"))
            } else if element.offset < 0 {
                offsets[element.partition] = .failure(KafkaError(
                    code: .fail, message: "\(spec) offset of \(element.partition): the leader answered \(element.offset)"))
            } else {
                offsets[element.partition] = .success(element.offset)
            }
        }
        return offsets
    }
}
