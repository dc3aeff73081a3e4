import CRdKafka

/// The transactional API. Every call is *blocking*; errors keep librdkafka's
/// classification: `isRetriable` (call again), `requiresTransactionAbort`
/// (abort, then begin again), `isFatal` (the producer is fenced or broken:
/// close it and create a new one).
extension KafkaProducer {
    private func transactional(_ what: String) throws {
        // A closed producer, or one with a fatal error, refuses the call
        // itself: librdkafka's transaction state does not always follow a
        // fatal error (begin still succeeds after one), which would let a
        // fenced producer open a transaction.
        try checkOpen(what)
        guard configuration.transactionalID != nil else {
            // librdkafka answers _NOT_CONFIGURED here too; this message names the fix.
            throw KafkaError(code: .notConfigured,
                             message: "\(what): the producer is not transactional; set transactionalID (transactional.id)",
                             setting: "transactional.id")
        }
    }

    /// Registers the transactional id with the cluster and fences older
    /// producers that used it. Call once before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) throws {
        try transactional("initTransactions")
        if let failure = rd_kafka_init_transactions(client.handle, Int32(timeout.timeoutMilliseconds)) {
            throw KafkaError(consuming: failure, "init transactions for '\(configuration.transactionalID ?? "")'")
        }
    }

    /// Starts a transaction; records sent until commit or abort belong to it.
    public func beginTransaction() throws {
        try transactional("beginTransaction")
        if let failure = rd_kafka_begin_transaction(client.handle) {
            throw KafkaError(consuming: failure, "begin transaction")
        }
    }

    /// Adds consumer offsets to the current transaction: they are stored for
    /// the group only if the transaction commits. Offsets are the next record
    /// to read.
    public func sendOffsetsToTransaction(
        _ offsets: [KafkaTopicPartition: Int64], groupMetadata: KafkaConsumerGroupMetadata,
        timeout: Duration = .seconds(30)
    ) throws {
        try transactional("sendOffsetsToTransaction")
        let list = try RDKafkaTopicPartitionList(offsets)
        try groupMetadata.withMetadataPointer { metadata in
            if let failure = rd_kafka_send_offsets_to_transaction(
                client.handle, list.pointer, metadata, Int32(timeout.timeoutMilliseconds))
            {
                throw KafkaError(consuming: failure, "send offsets \(offsets.offsetsDescription) to transaction")
            }
        }
    }

    /// Flushes and commits the current transaction.
    public func commitTransaction(timeout: Duration = .seconds(30)) throws {
        try transactional("commitTransaction")
        if let failure = rd_kafka_commit_transaction(client.handle, Int32(timeout.timeoutMilliseconds)) {
            throw KafkaError(consuming: failure, "commit transaction")
        }
    }

    /// Aborts the current transaction; its records stay invisible to
    /// read_committed consumers.
    public func abortTransaction(timeout: Duration = .seconds(30)) throws {
        try transactional("abortTransaction")
        if let failure = rd_kafka_abort_transaction(client.handle, Int32(timeout.timeoutMilliseconds)) {
            throw KafkaError(consuming: failure, "abort transaction")
        }
    }
}
