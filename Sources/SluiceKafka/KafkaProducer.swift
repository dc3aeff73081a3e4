import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka producer: idempotent by default, optionally transactional.
///
/// `send` enqueues and returns an id; delivery reports are served by a
/// background thread and passed to `onDelivery`. ``flush(timeout:)`` waits
/// for every outstanding record and throws if any failed, so nothing is lost
/// silently. Calls marked *blocking* wait on the network.
public final class KafkaProducer: Sendable {
    public let configuration: KafkaProducerConfiguration

    let client: RDKafkaClient
    private let logger: Logger
    private let state: Locked<State>
    private let pollerRunning = Locked(false)
    private let stopPolling = Locked(false)
    private let pollerDone = DispatchSemaphore(value: 0)

    private struct State {
        var closed = false
        var nextID: UInt = 1
        var delivered = 0
        var failed = 0
        /// The first failure since the last flush, reported by flush.
        var firstFailure: KafkaError?
        var waiting: [UInt: CheckedContinuation<KafkaDeliveryReport?, any Error>] = [:]
    }

    /// Records delivered and failed since the producer started.
    public var deliveryCounts: (delivered: Int, failed: Int) {
        state.withLock { ($0.delivered, $0.failed) }
    }

    /// Creates a producer and its delivery-report thread. Every property is
    /// validated here; an unknown or bad one throws an error naming it.
    ///
    /// - Parameter onDelivery: called on the producer's poll thread for each
    ///   delivery report.
    public init(
        configuration: KafkaProducerConfiguration,
        logger: Logger = Logger(label: "sluice.kafka.producer"),
        onDelivery: (@Sendable (KafkaDeliveryReport) -> Void)? = nil
    ) throws {
        let state = Locked(State())
        let userHandler = onDelivery
        let handler: @Sendable (RDKafkaDelivery) -> Void = { delivery in
            let report = KafkaDeliveryReport(
                id: delivery.id, topic: delivery.topic, partition: delivery.partition,
                offset: delivery.offset, error: delivery.error)
            let waiter = state.withLock { state -> CheckedContinuation<KafkaDeliveryReport?, any Error>? in
                if let error = delivery.error {
                    state.failed += 1
                    // Records purged by abortTransaction fail by design: the
                    // caller already knows, so flush must not report them.
                    if state.firstFailure == nil, !error.isPurge { state.firstFailure = error }
                } else {
                    state.delivered += 1
                }
                return state.waiting.removeValue(forKey: delivery.id)
            }
            userHandler?(report)
            waiter?.resume(returning: report)
        }
        self.client = try RDKafkaClient(
            kind: .producer, properties: configuration.librdkafkaProperties, security: configuration.security,
            callbacks: RDKafkaCallbacks(logger: logger, security: configuration.security, onDelivery: handler),
            bootstrapServers: configuration.bootstrapServers)
        self.configuration = configuration
        self.logger = logger
        self.state = state
        startPolling()
    }

    deinit {
        stopPollThread()
    }

    private func startPolling() {
        let client = self.client
        let stop = self.stopPolling
        let done = self.pollerDone
        let thread = Thread {
            while !stop.withLock({ $0 }) {
                rd_kafka_poll(client.handle, 100)
            }
            done.signal()
        }
        thread.name = "sluice-kafka-producer-poll"
        pollerRunning.withLock { $0 = true }
        thread.start()
    }

    private func stopPollThread() {
        let wasRunning = pollerRunning.withLock { running -> Bool in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        stopPolling.withLock { $0 = true }
        pollerDone.wait()
    }

    /// Throws when the producer is closed or has met a fatal error.
    func checkOpen(_ what: String) throws {
        if state.withLock({ $0.closed }) { throw KafkaError.closed(what) }
        if let fatal = client.raisedFatalError() { throw fatal }
    }

    /// Enqueues a record and returns its id (echoed in its delivery report).
    /// When the local queue is full it waits for room, up to the message
    /// timeout. Throws at once after a fatal error, and for a topic or
    /// partition that does not exist.
    @discardableResult
    public func send(_ message: KafkaProducerMessage) throws -> UInt {
        try checkOpen("send to \(message.topic)")
        let id = state.withLock { state -> UInt in
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        let deadline = ContinuousClock.now + configuration.effectiveMessageTimeout
        while true {
            let err = RDKafkaProduce.produce(client.handle, message, id: id)
            switch err {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                return id
            case RD_KAFKA_RESP_ERR__QUEUE_FULL where ContinuousClock.now < deadline:
                // The poll thread drains delivery reports; give it a moment.
                Thread.sleep(forTimeInterval: 0.001)
            case RD_KAFKA_RESP_ERR__FATAL:
                throw client.raisedFatalError() ?? KafkaError(err, "send to \(message.topic)")
            default:
                throw sendError(err, message)
            }
        }
    }

    /// The error for a record librdkafka refused to enqueue, with the fix.
    private func sendError(_ err: rd_kafka_resp_err_t, _ message: KafkaProducerMessage) -> KafkaError {
        var error = KafkaError(err, "send to \(message.topic)\(message.partition.map { "[\($0)]" } ?? "")")
        switch err {
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
            error.message += "; check the topic name and its partition count"
        case RD_KAFKA_RESP_ERR__STATE where configuration.transactionalID != nil:
            error.message += "; a transactional producer sends only inside a transaction: "
                + "call initTransactions() once, then beginTransaction()"
        default:
            break
        }
        return error
    }

    /// Sends a record and waits for its delivery report; throws the delivery
    /// error when the record was not delivered. When the local queue is
    /// full it waits for room (without blocking a thread), up to the
    /// message timeout, like the synchronous ``send(_:)``.
    @discardableResult
    public func send(_ message: KafkaProducerMessage) async throws -> KafkaDeliveryReport {
        let deadline = ContinuousClock.now + configuration.effectiveMessageTimeout
        while true {
            try checkOpen("send to \(message.topic)")
            if let report = try await enqueueAndWait(message, queueFullIsError: ContinuousClock.now >= deadline) {
                if let error = report.error { throw error }
                return report
            }
            // The poll thread drains delivery reports; give it a moment.
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// Enqueues one record and waits for its report; `nil` when the local
    /// queue was full and `queueFullIsError` is false.
    private func enqueueAndWait(_ message: KafkaProducerMessage, queueFullIsError: Bool) async throws -> KafkaDeliveryReport? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<KafkaDeliveryReport?, any Error>) in
            // Register before producing so a fast report cannot be missed.
            let id = state.withLock { state -> UInt in
                defer { state.nextID &+= 1 }
                state.waiting[state.nextID] = continuation
                return state.nextID
            }
            let err = RDKafkaProduce.produce(client.handle, message, id: id)
            guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
            let waiter = state.withLock { $0.waiting.removeValue(forKey: id) }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !queueFullIsError {
                waiter?.resume(returning: nil)
                return
            }
            let error = err == RD_KAFKA_RESP_ERR__FATAL
                ? (client.raisedFatalError() ?? KafkaError(err, "send to \(message.topic)"))
                : self.sendError(err, message)
            waiter?.resume(throwing: error)
        }
    }

    /// Waits until every enqueued record has a delivery report. *Blocking*.
    /// Throws `timedOut` naming how many are still outstanding, or the first
    /// delivery failure since the previous flush.
    public func flush(timeout: Duration = .seconds(30)) throws {
        try checkOpen("flush")
        let err = rd_kafka_flush(client.handle, Int32(timeout.timeoutMilliseconds))
        if err == RD_KAFKA_RESP_ERR__TIMED_OUT {
            let outstanding = rd_kafka_outq_len(client.handle)
            throw KafkaError(code: .timedOut,
                             message: "flush: \(outstanding) records still not acknowledged by \(client.bootstrapServers) after \(timeout)",
                             isRetriable: true)
        }
        if let failure = state.withLock({ state -> KafkaError? in
            defer { state.firstFailure = nil }
            return state.firstFailure
        }) {
            throw failure
        }
    }

    /// Async variant of ``flush(timeout:)``, run off the cooperative thread pool.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        try await KafkaBlocking.run { try self.flush(timeout: timeout) }
    }

    /// Records enqueued but not yet acknowledged.
    public var outstandingCount: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// Flushes, stops the delivery thread and refuses further calls. *Blocking*.
    public func close(timeout: Duration = .seconds(30)) throws {
        let alreadyClosed = state.withLock { $0.closed }
        guard !alreadyClosed else { return }
        defer {
            state.withLock { $0.closed = true }
            stopPollThread()
        }
        if client.raisedFatalError() == nil { try flush(timeout: timeout) }
    }

    /// Raises a fatal error as if the broker had, for tests of error handling.
    public func _triggerFatalError(_ code: KafkaError.Code, reason: String) {
        _ = rd_kafka_test_fatal_error(client.handle, rd_kafka_resp_err_t(rawValue: code.rawValue), reason)
    }
}
