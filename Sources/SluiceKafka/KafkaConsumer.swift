import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka consumer: subscribe or assign, fetch records in batches, seek,
/// pause and resume, commit explicit offsets, and see rebalances.
///
/// Calls marked *blocking* wait on the network; call them from a thread of
/// your own (the streaming engine has one) or use their `async` variants,
/// which run them off the cooperative thread pool.
public final class KafkaConsumer: Sendable {
    /// The configuration the consumer was created with.
    public let configuration: KafkaConsumerConfiguration
    /// Rebalance, commit and background error events, in order. Buffers the
    /// newest 10,000 events when nobody reads.
    public let events: AsyncStream<KafkaConsumerEvent>

    let client: RDKafkaClient
    private let logger: Logger
    private let state = Mutex(State())
    private let eventContinuation: AsyncStream<KafkaConsumerEvent>.Continuation
    /// Wake-up requests answered (``wakeFetchers(of:then:)``).
    let fetcherWakeups = Atomic<Int>(0)
    /// When a poll wakes the fetching threads (``FetchWakePolicy``).
    let fetchWake = Mutex(FetchWakePolicy())

    private struct State {
        var closed = false
        var decoder = RDKafkaRecordDecoder()
        /// An error met while fetching, kept until the records fetched before
        /// it have been returned.
        var pendingError: KafkaError?
    }

    /// Creates a consumer. Every property is validated here; an unknown or
    /// bad one throws an error naming it.
    ///
    /// - Parameters:
    ///   - onEvent: called synchronously on the fetching thread for each
    ///     event, before it is queued on ``events``. A `.revoked` handler may
    ///     commit offsets for the partitions it still owns.
    public init(
        configuration: KafkaConsumerConfiguration,
        logger: Logger = Logger(label: "sluice.kafka.consumer"),
        onEvent: (@Sendable (KafkaConsumerEvent) -> Void)? = nil
    ) throws {
        let (stream, continuation) = AsyncStream<KafkaConsumerEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let userHandler = onEvent
        let handler: @Sendable (KafkaConsumerEvent) -> Void = { event in
            userHandler?(event)
            continuation.yield(event)
        }
        self.client = try RDKafkaClient(
            kind: .consumer, properties: configuration.librdkafkaProperties, security: configuration.security,
            callbacks: RDKafkaCallbacks(logger: logger, security: configuration.security, onConsumerEvent: handler),
            bootstrapServers: configuration.bootstrapServers)
        self.configuration = configuration
        self.logger = logger
        self.events = stream
        self.eventContinuation = continuation
        state.withLock { $0.decoder.readsHeaders = configuration.readsHeaders }
    }

    deinit {
        eventContinuation.finish()
        // rd_kafka_destroy (in RDKafkaClient.deinit) closes the consumer if
        // close() was not called.
    }

    private func checkOpen(_ what: String) throws {
        if state.withLock({ $0.closed }) { throw KafkaError.closed(what) }
        if let fatal = client.raisedFatalError() { throw fatal }
    }

    // MARK: Subscription and assignment

    /// Joins the group and subscribes to these topics. *Blocking*: checks
    /// within `timeout` that the cluster is reachable and that every topic
    /// exists, so a typo fails here rather than as silence later.
    public func subscribe(topics: [String], timeout: Duration = .seconds(10)) throws {
        try checkOpen("subscribe")
        guard configuration.groupID != nil else {
            throw KafkaError(code: .invalidConfiguration,
                             message: "subscribe needs a consumer group: set groupID (group.id)", setting: "group.id")
        }
        guard !topics.isEmpty else { throw KafkaError(code: .invalidArgument, message: "subscribe needs at least one topic") }
        _ = try partitionCounts(of: Set(topics), timeout: timeout)
        try subscribe(names: topics)
    }

    /// Subscribes to every topic whose name matches the regular expression
    /// (librdkafka's syntax); topics created later are picked up.
    public func subscribe(pattern: String) throws {
        try checkOpen("subscribe")
        guard configuration.groupID != nil else {
            throw KafkaError(code: .invalidConfiguration,
                             message: "subscribe needs a consumer group: set groupID (group.id)", setting: "group.id")
        }
        try subscribe(names: [pattern.hasPrefix("^") ? pattern : "^" + pattern])
    }

    private func subscribe(names: [String]) throws {
        let list = try RDKafkaTopicPartitionList(capacity: names.count)
        for name in names { list.add(KafkaTopicPartition(topic: name, partition: Int32(RD_KAFKA_PARTITION_UA)), offset: nil) }
        let err = rd_kafka_subscribe(client.handle, list.pointer)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "subscribe to \(names)") }
    }

    /// Leaves the subscription (and the assignment it gave).
    public func unsubscribe() throws {
        try checkOpen("unsubscribe")
        let err = rd_kafka_unsubscribe(client.handle)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "unsubscribe") }
    }

    /// Reads exactly these partitions, from the given positions, without a
    /// group rebalance. Replaces any previous assignment. *Blocking* for the
    /// check that each topic exists and each partition is in range.
    public func assign(_ starts: [KafkaTopicPartition: KafkaStartOffset], timeout: Duration = .seconds(10)) throws {
        try checkOpen("assign")
        let counts = try partitionCounts(of: Set(starts.keys.map(\.topic)), timeout: timeout)
        for partition in starts.keys.sorted() {
            let count = counts[partition.topic] ?? 0
            guard partition.partition >= 0, Int(partition.partition) < count else {
                throw KafkaError(code: .unknownPartition,
                                 message: "cannot assign \(partition): topic '\(partition.topic)' has \(count) partitions")
            }
        }
        let list = try RDKafkaTopicPartitionList(capacity: starts.count)
        for (partition, start) in starts.sorted(by: { $0.key < $1.key }) {
            list.add(partition, offset: start.librdkafkaOffset)
        }
        // A logical start is looked up at once only when librdkafka knows
        // the partition's leader; otherwise 500 ms later (see learnLeaders).
        let logical = Set(starts.filter { $0.value.isLogical }.keys.map(\.topic))
        let handles = logical.isEmpty ? nil : client.learnLeaders(of: logical, timeout: timeout)
        let err = withExtendedLifetime(handles) { rd_kafka_assign(client.handle, list.pointer) }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "assign \(starts.keys.sorted())") }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [KafkaTopicPartition] {
        try checkOpen("assignment")
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(client.handle, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw KafkaError(err, "assignment") }
        return RDKafkaTopicPartitionList(adopting: list).partitions.sorted()
    }

    /// The number of partitions of a topic. *Blocking*. Throws
    /// `unknownTopicOrPartition` naming the topic when it does not exist.
    public func partitionCount(of topic: String, timeout: Duration = .seconds(10)) throws -> Int {
        try checkOpen("partitionCount")
        return try partitionCounts(of: [topic], timeout: timeout)[topic] ?? 0
    }

    /// The partition counts of these topics, from one metadata request.
    /// Throws for the first missing or unavailable topic, by name.
    private func partitionCounts(of topics: Set<String>, timeout: Duration) throws -> [String: Int] {
        let metadata = try client.metadata(topic: topics.count == 1 ? topics.first : nil, timeout: timeout)
        var counts: [String: Int] = [:]
        for topic in topics.sorted() {
            guard let described = metadata.topics.first(where: { $0.name == topic }) else {
                throw KafkaError(code: .unknownTopicOrPartition,
                                 message: "topic '\(topic)' does not exist on \(client.bootstrapServers); create it first or check the name")
            }
            if let error = described.error {
                throw KafkaError(code: error, message: "topic '\(topic)' is not available on \(client.bootstrapServers): \(error.name); create it first or check the name")
            }
            counts[topic] = described.partitions.count
        }
        return counts
    }

    /// Metadata of one topic or of every topic. *Blocking*.
    public func metadata(topic: String? = nil, timeout: Duration = .seconds(10)) throws -> KafkaClusterMetadata {
        try checkOpen("metadata")
        return try client.metadata(topic: topic, timeout: timeout)
    }

    // MARK: Fetching

    /// Fetches up to `maxRecords` records, waiting at most `timeout` for the
    /// first one. *Blocking*. Serves rebalance and commit events while it
    /// waits. Returns an empty array when nothing arrived in time.
    ///
    /// Errors librdkafka recovers from by itself (a broker briefly down, a
    /// fetch request that failed with a broker error; librdkafka fetches
    /// again after a backoff) are logged and sent to ``events``; errors that
    /// need the caller (a topic that vanished, an offset out of range with
    /// `auto.offset.reset=error`, an authorization failure, a missed
    /// `max.poll.interval.ms`, a fatal error) are thrown, after the records
    /// fetched before them.
    public func poll(maxRecords: Int = 10_000, timeout: Duration = .milliseconds(100)) throws -> [KafkaRecord] {
        Array(try pollBatch(maxRecords: maxRecords, timeout: timeout))
    }

    /// ``poll(maxRecords:timeout:)`` returning the records as a
    /// ``KafkaRecordBatch``: the same records, held column by column (their
    /// bytes plus ~25 bytes each, where an array of records needs ~170), each
    /// ``KafkaRecord`` built when it is read. *Blocking*.
    public func pollBatch(maxRecords: Int = 10_000, timeout: Duration = .milliseconds(100)) throws -> KafkaRecordBatch {
        try withFetchedMessages(maxRecords: maxRecords, timeout: timeout, none: KafkaRecordBatch()) { messages, count in
            // Only the fetching thread decodes; the decoder's cache is taken out
            // of the lock for the batch and put back after. It destroys the messages.
            var decoder = state.withLock { $0.decoder }
            let (records, firstError) = decoder.drain(messages, count: count)
            state.withLock { [decoder] in $0.decoder = decoder }
            try surface(firstError, afterRecords: !records.isEmpty)
            return records
        }
    }

    /// Fetches up to `maxRecords` records, waiting at most `timeout` for the
    /// first one, and calls `body` with each in turn, read in place in
    /// librdkafka's buffers: nothing is copied or allocated per record, as a
    /// C program reading `rd_kafka_consume_batch_queue`'s messages. Returns
    /// how many records `body` got (0 when nothing arrived in time).
    /// *Blocking*, like ``pollBatch(maxRecords:timeout:)``, whose records,
    /// positions and errors it shares: the same records in the same order,
    /// and fetch errors thrown (or logged and sent to ``events``) as it does,
    /// after the records fetched before them.
    ///
    /// The view is valid only during its body call (see
    /// ``KafkaRecordView``): each message is destroyed when its body call
    /// returns.
    ///
    /// When `body` throws, the call rethrows after destroying every message
    /// of the batch, and the record whose body threw and every record
    /// after it are *delivered again* by the next poll: the consumer seeks
    /// each of their partitions back to its first undelivered record (a
    /// blocking seek, on this error path only; ``position(_:)`` of those
    /// partitions is then `nil` until a record arrives, as after any seek
    /// with librdkafka 2.0.2). If that seek fails (the
    /// partition was revoked, say), the next poll throws an error naming
    /// the records not delivered.
    @discardableResult
    public func pollEach(
        maxRecords: Int = 10_000, timeout: Duration = .milliseconds(100),
        _ body: (borrowing KafkaRecordView) throws -> Void
    ) throws -> Int {
        try withFetchedMessages(maxRecords: maxRecords, timeout: timeout, none: 0) { messages, count in
            var decoder = state.withLock { $0.decoder }
            let outcome = decoder.lend(messages, count: count, to: body)
            state.withLock { [decoder] in $0.decoder = decoder }
            if let bodyError = outcome.bodyError {
                fetchAgain(outcome.undelivered)
                try surface(outcome.firstError, afterRecords: true)
                throw bodyError
            }
            try surface(outcome.firstError, afterRecords: outcome.delivered > 0)
            return outcome.delivered
        }
    }

    /// One `rd_kafka_consume_batch_queue` call of at most `maxRecords`
    /// messages, lent to `body`, which must destroy each; `none` when the
    /// consumer has no queue. Throws the error kept from the previous poll
    /// first.
    private func withFetchedMessages<Result>(
        maxRecords: Int, timeout: Duration, none: Result,
        _ body: (UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>, Int) throws -> Result
    ) throws -> Result {
        try checkOpen("poll")
        if let pending = state.withLock({ state -> KafkaError? in
            defer { state.pendingError = nil }
            return state.pendingError
        }) {
            throw pending
        }
        guard let queue = client.consumerQueue else { return none }
        let capacity = max(1, maxRecords)
        let messages = UnsafeMutablePointer<UnsafeMutablePointer<rd_kafka_message_t>?>.allocate(capacity: capacity)
        defer { messages.deallocate() }
        let queuedBefore = Int(rd_kafka_queue_length(queue))
        let count = rd_kafka_consume_batch_queue(queue, Int32(timeout.timeoutMilliseconds), messages, capacity)
        guard count >= 0 else {
            throw KafkaError(rd_kafka_last_error(), "fetch from \(client.bootstrapServers)")
        }
        wakeFetchersIfBehind(queuedBefore: queuedBefore, polled: count)
        return try body(messages, count)
    }

    /// Throws the first fetch error of a poll when it needs the caller and
    /// no record came before it; keeps it for the next poll when records
    /// did (they are returned first); logs and sends to ``events`` an error
    /// librdkafka recovers from by itself.
    private func surface(_ firstError: KafkaError?, afterRecords: Bool) throws {
        guard let firstError else { return }
        if Self.needsCaller(firstError) {
            if !afterRecords { throw firstError }
            keepForNextPoll(firstError)
        } else {
            logger.warning("fetch: \(firstError) (librdkafka retries by itself)")
            client.callbacks.emit(.error(firstError))
        }
    }

    /// Keeps `error` for the next poll to throw, unless one is kept already.
    private func keepForNextPoll(_ error: KafkaError) {
        state.withLock { state in
            if state.pendingError == nil { state.pendingError = error }
        }
    }

    /// Seeks each partition back to its first record fetched but not
    /// delivered, so that the next poll delivers them; a partition that
    /// cannot be sought leaves an error for the next poll naming them.
    private func fetchAgain(_ undelivered: [KafkaTopicPartition: Int64]) {
        for (partition, offset) in undelivered.sorted(by: { $0.key < $1.key }) {
            do {
                try seek(partition, to: .offset(offset))
            } catch {
                logger.error("\(partition): records from offset \(offset) were fetched but not delivered, and the seek back to them failed: \(error)")
                var kept = error as? KafkaError ?? KafkaError(code: .state, message: "\(error)")
                kept.message = "\(partition): records from offset \(offset) were fetched but not delivered (the poll's body threw) "
                    + "and could not be fetched again: \(kept.message); seek there or reassign the partition to read them"
                keepForNextPoll(kept)
            }
        }
    }

    /// Async variant of ``poll(maxRecords:timeout:)``; the wait happens off
    /// the cooperative thread pool.
    public func records(maxRecords: Int = 10_000, timeout: Duration = .milliseconds(100)) async throws -> [KafkaRecord] {
        try await KafkaBlocking.run { try self.poll(maxRecords: maxRecords, timeout: timeout) }
    }

    /// Whether a fetch error needs the caller. librdkafka keeps fetching
    /// after every other consumer error (a broker down, a fetch that failed
    /// with `REQUEST_TIMED_OUT` or another broker error is retried after
    /// `fetch.error.backoff.ms`), so those are informational: thrown, they
    /// would stop a job for a blip that heals by itself.
    private static func needsCaller(_ error: KafkaError) -> Bool {
        error.isFatal || [
            .unknownTopicOrPartition, .unknownTopic, .unknownPartition, .offsetOutOfRange, .autoOffsetReset,
            .topicAuthorizationFailed, .groupAuthorizationFailed, .maxPollExceeded, .fatal,
        ].contains(error.code)
    }

    // MARK: Positions

    /// Moves the fetch position of an assigned partition. *Blocking*.
    public func seek(_ partition: KafkaTopicPartition, to offset: KafkaStartOffset, timeout: Duration = .seconds(10)) throws {
        try checkOpen("seek")
        let list = try RDKafkaTopicPartitionList(capacity: 1)
        list.add(partition, offset: offset.librdkafkaOffset)
        if let failure = rd_kafka_seek_partitions(client.handle, list.pointer, Int32(timeout.timeoutMilliseconds)) {
            throw KafkaError(consuming: failure, "seek \(partition) to \(offset)")
        }
        for element in list.elements where element.error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(element.error, "seek \(partition) to \(offset)")
        }
    }

    /// Stops fetching these partitions until ``resume(_:)``; the assignment stays.
    public func pause(_ partitions: [KafkaTopicPartition]) throws {
        try checkOpen("pause")
        let list = try RDKafkaTopicPartitionList(partitions)
        let err = rd_kafka_pause_partitions(client.handle, list.pointer)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "pause \(partitions)") }
    }

    /// Fetches these paused partitions again, at once: the threads that
    /// fetch them are woken (librdkafka 2.0 alone acts on a resume only when
    /// they next wake up, up to a second later; see `wakeFetchers(of:)`).
    public func resume(_ partitions: [KafkaTopicPartition]) throws {
        try checkOpen("resume")
        let list = try RDKafkaTopicPartitionList(partitions)
        let err = rd_kafka_resume_partitions(client.handle, list.pointer)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "resume \(partitions)") }
        wakeFetchers(of: partitions)
    }

    /// The offset of the next record the consumer returns per partition, or
    /// `nil` when it has no position yet.
    public func position(_ partitions: [KafkaTopicPartition]) throws -> [KafkaTopicPartition: Int64?] {
        try checkOpen("position")
        let list = try RDKafkaTopicPartitionList(partitions)
        let err = rd_kafka_position(client.handle, list.pointer)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "position of \(partitions)") }
        return Self.offsets(list)
    }

    /// The group's committed offsets (offset of the next record to read), or
    /// `nil` for a partition without one. *Blocking*.
    public func committed(_ partitions: [KafkaTopicPartition], timeout: Duration = .seconds(10)) throws -> [KafkaTopicPartition: Int64?] {
        try checkOpen("committed")
        let list = try RDKafkaTopicPartitionList(partitions)
        let err = rd_kafka_committed(client.handle, list.pointer, Int32(timeout.timeoutMilliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "committed offsets of \(partitions)") }
        for element in list.elements where element.error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(element.error, "committed offset of \(element.partition)")
        }
        return Self.offsets(list)
    }

    private static func offsets(_ list: RDKafkaTopicPartitionList) -> [KafkaTopicPartition: Int64?] {
        var result: [KafkaTopicPartition: Int64?] = [:]
        for element in list.elements {
            result[element.partition] = element.offset >= 0 ? element.offset : nil
        }
        return result
    }

    // MARK: Commits

    /// Commits these offsets for the group and waits for the broker's answer.
    /// Each offset is the *next* record to read (last processed + 1).
    /// *Blocking*.
    ///
    /// Coordinator trouble (`COORDINATOR_NOT_AVAILABLE`, `NOT_COORDINATOR`,
    /// `COORDINATOR_LOAD_IN_PROGRESS`, `REQUEST_TIMED_OUT`) is retried inside
    /// this call by librdkafka, which then succeeds. Any other error the
    /// broker gives is thrown as a ``KafkaError`` with its code and the
    /// offsets concerned, which were not stored: `REBALANCE_IN_PROGRESS` is
    /// `isRetriable` (commit again after the rebalance, for partitions still
    /// owned); `UNKNOWN_MEMBER_ID`, `ILLEGAL_GENERATION` and authorization
    /// errors are not.
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) throws {
        try checkOpen("commit")
        guard !offsets.isEmpty else { return }
        let list = try RDKafkaTopicPartitionList(offsets)
        let err = rd_kafka_commit(client.handle, list.pointer, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "commit offsets \(offsets.offsetsDescription)") }
        for element in list.elements where element.error != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(element.error, "commit offset \(element.offset) of \(element.partition)")
        }
    }

    /// Async variant of ``commit(_:)``, run off the cooperative thread pool.
    public func commit(_ offsets: [KafkaTopicPartition: Int64]) async throws {
        try await KafkaBlocking.run { try self.commit(offsets) }
    }

    /// Sends the commit and returns at once; the result arrives as a
    /// ``KafkaConsumerEvent/committed(_:_:)`` event during a later poll.
    public func commitAsync(_ offsets: [KafkaTopicPartition: Int64]) throws {
        try checkOpen("commitAsync")
        guard !offsets.isEmpty else { return }
        let list = try RDKafkaTopicPartitionList(offsets)
        let err = rd_kafka_commit(client.handle, list.pointer, 1)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "commit offsets \(offsets.offsetsDescription)") }
    }

    // MARK: Watermarks and group metadata

    /// The low and high watermark of a partition, asked of its leader. *Blocking*.
    public func watermarks(of partition: KafkaTopicPartition, timeout: Duration = .seconds(10)) throws -> KafkaWatermarks {
        try checkOpen("watermarks")
        return try client.queryWatermarks(partition, timeout: timeout)
    }

    /// The watermarks last seen in fetch responses (no network call); `nil`
    /// until the partition has been fetched.
    public func cachedWatermarks(of partition: KafkaTopicPartition) throws -> KafkaWatermarks? {
        try checkOpen("cachedWatermarks")
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(client.handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return KafkaWatermarks(low: max(low, 0), high: high)
    }

    /// This member's group metadata, for
    /// ``KafkaProducer/sendOffsetsToTransaction(_:groupMetadata:timeout:)``.
    public func groupMetadata() throws -> KafkaConsumerGroupMetadata {
        try checkOpen("groupMetadata")
        guard let metadata = rd_kafka_consumer_group_metadata(client.handle) else {
            throw KafkaError(code: .state, message: "group metadata: the consumer has no group; set groupID")
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        return try KafkaConsumerGroupMetadata(metadata)
    }

    // MARK: Close

    /// Leaves the group (revoking partitions through the event handler) and
    /// stops fetching. *Blocking*. Later calls throw a `state` error.
    /// Calling it twice is harmless.
    public func close() throws {
        let alreadyClosed = state.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        guard !alreadyClosed else { return }
        let err = rd_kafka_consumer_close(client.handle)
        eventContinuation.finish()
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "close consumer") }
    }

    /// Async variant of ``close()``, run off the cooperative thread pool.
    public func close() async throws {
        try await KafkaBlocking.run { try self.close() }
    }
}

extension KafkaStartOffset {
    /// Whether librdkafka has to look the offset up.
    var isLogical: Bool {
        if case .offset = self { return false }
        return true
    }

    var librdkafkaOffset: Int64 {
        switch self {
        case .beginning: return Int64(RD_KAFKA_OFFSET_BEGINNING)
        case .end: return Int64(RD_KAFKA_OFFSET_END)
        case .committed: return Int64(RD_KAFKA_OFFSET_STORED)
        case .offset(let offset): return offset
        }
    }
}
