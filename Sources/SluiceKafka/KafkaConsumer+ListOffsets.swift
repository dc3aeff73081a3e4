extension KafkaConsumer {
    /// The end of the log of each partition, asked of the partition leaders
    /// in one ListOffsets request per leader (``watermarks(of:timeout:)``
    /// sends two per partition): the high watermark, or with
    /// `isolationLevel = .readCommitted` the last stable offset. *Blocking*.
    ///
    /// - Returns: per partition, its end offset or the error its leader gave.
    /// - Throws: when the request as a whole failed (e.g. no leader known in time).
    public func endOffsets(
        of partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)
    ) throws -> [KafkaTopicPartition: Result<Int64, KafkaError>] {
        if let fatal = client.raisedFatalError() { throw fatal }
        return try client.listOffsets(partitions, .end, timeout: timeout)
    }

    /// The first offset still in the log (the low watermark) of each
    /// partition, in one ListOffsets request per leader. *Blocking*.
    public func startOffsets(
        of partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)
    ) throws -> [KafkaTopicPartition: Result<Int64, KafkaError>] {
        if let fatal = client.raisedFatalError() { throw fatal }
        return try client.listOffsets(partitions, .start, timeout: timeout)
    }
}
