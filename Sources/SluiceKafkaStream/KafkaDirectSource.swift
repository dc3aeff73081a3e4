import Foundation
import Logging
import Sluice
import SluiceKafka
import Synchronization

/// The Kafka direct stream (Spark's `DirectKafkaInputDStream`): at each batch
/// time it plans one `OffsetRange [from, until)` per partition — `from` is
/// the previous batch's `until`, `until` is the end of the log (the last
/// stable offset with read_committed) capped by the rate limit or
/// backpressure — and the batch then reads exactly those records, one batch
/// partition per Kafka partition. The end of the log comes from what the
/// consumer already knows (the fetch responses' high watermarks, its
/// position) when that is current and within the last stable offset, so a
/// plan rarely waits for a ListOffsets round trip (``LogEndChoice``).
///
/// A fetch thread reads ahead into per-partition buffers (paused above
/// `maxBufferedRecordsPerPartition`), so batch k+1's records arrive while
/// batch k is processed. A batch's partitions are handed over while their
/// records are still arriving (``PartitionArrival``): operators that work
/// piece by piece start on the first records, outputs see whole batches.
///
/// Start offsets, in order of precedence: offsets given to
/// ``resume(from:)`` (an exactly-once sink's recovered offsets), explicit
/// `startingPosition` offsets, the group's committed offsets, then the
/// beginning or end of the log.
public final class KafkaDirectSource: InputSource {
    public typealias Element = KafkaRecord
    public typealias Plan = KafkaBatchPlan

    public let configuration: KafkaSourceConfiguration
    public var name: String {
        switch configuration.subscription {
        case .topics(let topics): return "kafka \(topics.joined(separator: ","))"
        case .pattern(let pattern): return "kafka /\(pattern)/"
        case .partitions(let partitions): return "kafka \(partitions.map(\.description).joined(separator: ","))"
        }
    }

    struct State {
        var consumer: KafkaConsumer?
        /// Asks partition leaders for watermarks on connections of its own:
        /// on the fetching consumer's connections a ListOffsets request waits
        /// behind the broker's long-polled Fetch (up to fetch.wait.max.ms).
        var offsetsClient: KafkaConsumer?
        var inputID: Int?
        var logger = Logger(label: "sluice.kafka.stream")
        /// Next offset to plan, per partition with a known start.
        var nextOffsets: [KafkaTopicPartition: Int64] = [:]
        /// Assigned partitions whose start offset is not resolved yet.
        var needsStart: Set<KafkaTopicPartition> = []
        var resumeOffsets: [KafkaTopicPartition: Int64] = [:]
        /// Where planning had reached when the group took a partition away;
        /// if the partition comes back, planning continues from there.
        var positionsAtRevoke: [KafkaTopicPartition: Int64] = [:]
        var fetchError: KafkaError?
        var stopRequested = false
        var fetcherRunning = false
        /// Partitions whose end of log planning asked of the leaders, summed
        /// over plans (the others came from fetch responses).
        var partitionsAskedOfLeaders = 0
        /// The end each partition's leader gave when last asked (under
        /// read_committed, a last stable offset: the log's end is never below it).
        var askedEnds: [KafkaTopicPartition: Int64] = [:]
        /// Set by the exactly-once output of a job split into tasks: opens
        /// assigned partitions (their start offsets come from its store) and
        /// closes revoked ones.
        var taskHooks: TaskHooks?
    }

    let state = Mutex(State())
    private let fetched: FetchedRecords
    /// Partitions the fetch thread paused because their buffer is full.
    /// Updated in the same step as the buffer decides to pause, so a plan
    /// never sees a paused partition as being fetched.
    let paused = Mutex(Set<KafkaTopicPartition>())
    private let fetcherStopped = DispatchSemaphore(value: 0)
    /// Held by the fetch thread around each poll and what it records of it,
    /// and by a seek with the reset of that partition's buffer: records
    /// fetched after a seek cannot be appended before the reset (which
    /// would drop them while the position says they were seen), nor stale
    /// positions recorded after it.
    private let fetchLock = NSLock()
    /// Seeks waiting for `fetchLock`: the fetch thread steps aside for them
    /// (the lock is not fair, and the thread takes it again at once).
    private let seeksWaiting = Mutex(0)

    /// A source for `configuration`; settings are validated when the context starts.
    public init(configuration: KafkaSourceConfiguration) {
        self.configuration = configuration
        self.fetched = FetchedRecords(maxHeldPerPartition: max(1, configuration.maxBufferedRecordsPerPartition))
    }

    /// Starts these partitions at these offsets (the next record to read),
    /// overriding every other start position. Call before the context
    /// starts; an exactly-once sink passes the offsets it recovered.
    public func resume(from offsets: [KafkaTopicPartition: Int64]) {
        state.withLock { $0.resumeOffsets.merge(offsets) { _, new in new } }
    }

    // MARK: InputSource

    /// Offsets are replayable: the same range reads the same records.
    public var supportsReplay: Bool { true }

    /// ``KafkaSourceConfiguration/partitionsAreTasks``.
    public var partitionsAreTasks: Bool { configuration.partitionsAreTasks }

    public func setTaskHooks(_ hooks: TaskHooks) {
        state.withLock { $0.taskHooks = hooks }
    }

    public func resume(from offsets: [SourceOffset]) {
        resume(from: Dictionary(
            offsets.map { (KafkaTopicPartition(topic: $0.topic, partition: $0.partition), $0.offset) },
            uniquingKeysWith: { _, last in last }))
    }

    public func start(_ context: SourceContext) async throws {
        try configuration.validate()
        let fetched = self.fetched
        let logger = context.logger
        let consumer = try KafkaConsumer(
            configuration: configuration.effectiveConsumerConfiguration, logger: logger,
            onEvent: { [weak self] event in self?.handle(event) })
        var offsetsConfiguration = configuration.effectiveConsumerConfiguration
        offsetsConfiguration.clientID += "-offsets"
        // Its requests are small and each plan waits for the answer: with
        // Nagle's algorithm a request can wait for the previous one's
        // (delayed) ACK.
        offsetsConfiguration.additionalProperties["socket.nagle.disable"] = "true"
        let offsetsClient = try KafkaConsumer(configuration: offsetsConfiguration, logger: logger)
        state.withLock { state in
            state.consumer = consumer
            state.offsetsClient = offsetsClient
            state.inputID = context.inputID
            state.logger = logger
        }
        switch configuration.subscription {
        case .topics(let topics):
            try await KafkaBlocking.run { try consumer.subscribe(topics: topics) }
        case .pattern(let pattern):
            try consumer.subscribe(pattern: pattern)
        case .partitions(let partitions):
            fetched.track(partitions)
            // Every partition from the first batch on.
            let stored = try await openTasks(partitions, firstBatch: Time(milliseconds: .min))
            let starts = try await KafkaBlocking.run { [self] in try resolveStarts(partitions, stored: stored, consumer: consumer) }
            try await KafkaBlocking.run { try consumer.assign(starts.mapValues { .offset($0) }) }
            state.withLock { $0.nextOffsets.merge(starts) { _, new in new } }
        }
        startFetcher(consumer)
        logger.info("\(name): started (group \(configuration.groupID), \(configuration.isolationLevel.rawValue))")
    }

    public func plan(_ context: PlanningContext) async throws -> KafkaBatchPlan {
        let (consumer, offsetsClient, failure, pending) = state.withLock { ($0.consumer, $0.offsetsClient, $0.fetchError, $0.needsStart) }
        if let failure { throw failure }
        guard let consumer, let offsetsClient else { return KafkaBatchPlan(offsetRanges: [], partitionLag: []) }
        if !pending.isEmpty {
            try await startNewlyAssigned(Array(pending), firstBatch: context.batchTime, consumer: consumer)
        }
        let starts = state.withLock { $0.nextOffsets }
        guard !starts.isEmpty else { return KafkaBatchPlan(offsetRanges: [], partitionLag: []) }
        let partitions = starts.keys.sorted()
        let (marks, highWatermarks) = try await logEnds(from: starts, consumer: consumer, offsetsClient: offsetsClient)
        var ends: [KafkaTopicPartition: Int64] = [:]
        for (partition, mark) in marks {
            ends[partition] = mark.high
            if let from = starts[partition], from < mark.low {
                let lost = KafkaError(
                    code: .offsetOutOfRange,
                    message: "\(name): records \(from)..<\(mark.low) of \(partition) were deleted (retention) before they were read; "
                        + "set failOnDataLoss = false to skip them")
                if configuration.failOnDataLoss { throw lost }
                state.withLock { $0.logger }.warning("\(lost.message)")
            }
        }

        var available: [KafkaTopicPartition: Int64] = [:]
        for partition in partitions {
            available[partition] = max(0, (ends[partition] ?? 0) - (starts[partition] ?? 0))
        }
        let caps = RateLimit.maxRecordsPerPartition(
            lag: available, estimatedRate: context.estimatedRate,
            maxRatePerPartition: configuration.maxRatePerPartition, batchInterval: context.batchInterval,
            minRecordsPerPartition: configuration.minRecordsPerPartition)

        var ranges: [OffsetRange] = []
        var lags: [PartitionLag] = []
        for partition in partitions {
            guard let from = starts[partition] else { continue }
            let end = max(from, ends[partition] ?? from)
            let until = caps?[partition].map { min(end, from + $0) } ?? end
            ranges.append(OffsetRange(topic: partition.topic, partition: partition.partition, from: from, until: until))
            // A partition whose end is unknown this batch reports no lag rather than 0.
            if ends[partition] != nil {
                // Lag counts from the log's known end, which under
                // read_committed can lie past the end planned with.
                let logEnd = max(end, highWatermarks[partition] ?? end)
                lags.append(PartitionLag(topic: partition.topic, partition: partition.partition, lag: logEnd - until))
            }
        }
        state.withLock { state in
            for range in ranges {
                let partition = KafkaTopicPartition(topic: range.topic, partition: range.partition)
                // A partition revoked while planning keeps no position.
                if state.nextOffsets[partition] != nil { state.nextOffsets[partition] = range.until }
            }
        }
        return KafkaBatchPlan(offsetRanges: ranges, partitionLag: lags)
    }

    /// One partition per planned range, returned at once: each is read by a
    /// task of its own that hands its records on as the fetch thread brings
    /// them (``PartitionArrival``), so operators that work piece by piece
    /// count the first records while later ones are still being fetched.
    /// A range not read whole within `readTimeout` fails the batch before
    /// its outputs run.
    public func read(_ plan: KafkaBatchPlan) async throws -> Batch<KafkaRecord> {
        let ranges = plan.offsetRanges.filter { $0.count > 0 }
        guard !ranges.isEmpty else { return .empty }
        let deadline = ContinuousClock.now + configuration.readTimeout
        var partitions: [Partition<KafkaRecord>] = []
        partitions.reserveCapacity(ranges.count)
        let tasks = ranges.map(TaskID.init)
        var readers: [Task<Void, Never>] = []
        for range in ranges {
            let arrival = PartitionArrival<KafkaRecord>()
            // No count before arrival: under read_committed a range holds
            // transaction markers and aborted records, which are not read.
            partitions.append(Partition(arrival: arrival))
            readers.append(Task { [self] in
                do {
                    try await read(range, deadline: deadline) { segments in
                        // Records are built from the fetched columns as operators read
                        // them: a batch holds their bytes and ~25 bytes each, not ~170.
                        arrival.append(Partition(count: segments.reduce(0) { $0 + $1.count }) { body in
                            for segment in segments { segment.forEach(body) }
                        })
                    }
                    arrival.finish()
                } catch {
                    arrival.fail(error)
                }
            })
        }
        // Wakes the readers' waits when the deadline passes.
        let fetched = self.fetched
        let started = readers
        Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    fetched.wakeAll()
                }
                group.addTask {
                    for reader in started { await reader.value }
                }
                await group.next()
                group.cancelAll()
            }
        }
        return Batch(partitions: partitions, tasks: tasks)
    }

    public func stop() async {
        let consumer = state.withLock { state -> KafkaConsumer? in
            state.stopRequested = true
            return state.consumer
        }
        fetched.wakeAll()
        if state.withLock({ $0.fetcherRunning }) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async { [fetcherStopped] in
                    fetcherStopped.wait()
                    continuation.resume()
                }
            }
        }
        if let offsetsClient = state.withLock({ $0.offsetsClient }) {
            try? await KafkaBlocking.run { try offsetsClient.close() }
        }
        if let consumer {
            do { try await KafkaBlocking.run { try consumer.close() } } catch {
                state.withLock { $0.logger }.warning("\(name): closing the consumer failed: \(error)")
            }
        }
    }

    // MARK: Group offsets

    /// Commits the until-offsets of a finished batch to the group (advisory:
    /// for lag monitoring). Failures are logged, not thrown.
    func commitToGroup(_ ranges: [OffsetRange]) {
        guard configuration.commitOffsetsToGroup, !ranges.isEmpty,
              let consumer = state.withLock({ $0.consumer }) else { return }
        var offsets: [KafkaTopicPartition: Int64] = [:]
        for range in ranges { offsets[KafkaTopicPartition(topic: range.topic, partition: range.partition)] = range.nextOffsetToCommit }
        do { try consumer.commitAsync(offsets) } catch {
            state.withLock { $0.logger }.warning("\(name): committing offsets to group \(configuration.groupID) failed: \(error)")
        }
    }

    var inputID: Int? { state.withLock { $0.inputID } }

    /// Waits until the fetch thread holds records no batch has taken yet,
    /// or `timeout` passes; returns whether it does (tests: the fetch
    /// responses that brought them also brought the log's new end).
    func waitForFetchedRecords(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        let fetched = self.fetched
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            fetched.wakeAll()
        }
        defer { timer.cancel() }
        while true {
            let (count, version) = fetched.heldRecords
            if count > 0 { return true }
            if ContinuousClock.now >= deadline { return false }
            await fetched.waitForChange(after: version)
        }
    }

    // MARK: Reading one range

    /// Reads `range`, handing each run of records taken from the fetch
    /// buffers to `deliver` as soon as it is there.
    private func read(_ range: OffsetRange, deadline: ContinuousClock.Instant,
                      deliver: ([RecordSegment]) -> Void) async throws {
        let partition = KafkaTopicPartition(topic: range.topic, partition: range.partition)
        var count = 0
        var from = range.from
        while true {
            let take = fetched.take(partition, from: from, until: range.until)
            if !take.segments.isEmpty { deliver(take.segments) }
            count += take.count
            if let last = take.lastOffset { from = last + 1 }
            if take.resume, let consumer = state.withLock({ $0.consumer }) {
                try? consumer.resume([partition])
                paused.withLock { _ = $0.remove(partition) }
            }
            if take.complete || from >= range.until { return }
            if let failure = state.withLock({ $0.fetchError }) { throw failure }
            if take.gone {
                throw KafkaError(code: .state, message: "\(name): \(partition) was revoked while reading \(range) of a planned batch")
            }
            if state.withLock({ $0.stopRequested }) {
                throw KafkaError(code: .state, message: "\(name): stopped while reading \(range)")
            }
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    code: .timedOut,
                    message: "\(name): reading \(range) got \(count) of \(range.count) records "
                        + "(up to offset \(from)) within \(configuration.readTimeout); the broker may be down or the "
                        + "records deleted — raise readTimeout or check the cluster",
                    isRetriable: true)
            }
            await fetched.waitForChange(of: partition, after: take.version)
        }
    }

    // MARK: Start offsets

    /// Start offset of each partition: where planning stood when the group
    /// took it away (if it comes back), resumed, explicit, committed, else the
    /// beginning or end of the log. *Blocking*.
    ///
    /// - Parameter stored: for a job split into tasks, the offsets its store
    ///   holds for the partitions, which come first; where planning stood
    ///   and offsets given at start do not count then (other processes may
    ///   have committed the partitions since).
    private func resolveStarts(
        _ partitions: [KafkaTopicPartition], stored: [KafkaTopicPartition: Int64]?, consumer: KafkaConsumer
    ) throws -> [KafkaTopicPartition: Int64] {
        var (resumed, atRevoke) = state.withLock { ($0.resumeOffsets, $0.positionsAtRevoke) }
        if let stored {
            resumed = stored
            atRevoke = [:]
        }
        var explicit: [KafkaTopicPartition: Int64] = [:]
        if case .offsets(let offsets) = configuration.startingPosition { explicit = offsets }
        var starts: [KafkaTopicPartition: Int64] = [:]
        var unknown: [KafkaTopicPartition] = []
        for partition in partitions {
            if let offset = atRevoke[partition] ?? resumed[partition] ?? explicit[partition] {
                starts[partition] = offset
            } else {
                unknown.append(partition)
            }
        }
        if !unknown.isEmpty {
            let committed = try consumer.committed(unknown)
            for partition in unknown {
                if let offset = committed[partition] ?? nil {
                    starts[partition] = offset
                } else {
                    let marks = try consumer.watermarks(of: partition)
                    starts[partition] = configuration.startingPosition == .earliest ? marks.low : marks.high
                }
            }
        }
        return starts
    }

    /// Opens the partitions as tasks when the stream has task hooks, and
    /// returns the offsets the job's store holds for them; nil without hooks.
    private func openTasks(_ partitions: [KafkaTopicPartition], firstBatch: Time) async throws -> [KafkaTopicPartition: Int64]? {
        guard let hooks = state.withLock({ $0.taskHooks }) else { return nil }
        let stored = try await hooks.open(partitions.map { TaskID(topic: $0.topic, partition: $0.partition) }, firstBatch)
        return Dictionary(uniqueKeysWithValues: stored.map { (KafkaTopicPartition(topic: $0.key.topic, partition: $0.key.partition), $0.value) })
    }

    /// Partitions the group just assigned: resolve their start and move the
    /// consumer there.
    private func startNewlyAssigned(_ partitions: [KafkaTopicPartition], firstBatch: Time, consumer: KafkaConsumer) async throws {
        let stored = try await openTasks(partitions, firstBatch: firstBatch)
        let starts = try await KafkaBlocking.run { [self] in try resolveStarts(partitions, stored: stored, consumer: consumer) }
        var started: [KafkaTopicPartition: Int64] = [:]
        for (partition, offset) in starts {
            do {
                try await KafkaBlocking.run { [self] in
                    seeksWaiting.withLock { $0 += 1 }
                    defer { seeksWaiting.withLock { $0 -= 1 } }
                    try fetchLock.withLock {
                        let before = try? consumer.position([partition])[partition] ?? nil
                        try consumer.seek(partition, to: .offset(offset))
                        fetched.reset(partition, seekedTo: offset, positionBeforeSeek: before ?? nil)
                    }
                }
                started[partition] = offset
            } catch {
                // Not fetching yet right after the assignment: try again next batch.
                state.withLock { $0.logger }.debug("\(name): seek \(partition) to \(offset) deferred: \(error)")
            }
        }
        state.withLock { state in
            for (partition, offset) in started where state.needsStart.contains(partition) {
                state.needsStart.remove(partition)
                state.nextOffsets[partition] = offset
            }
        }
        if !started.isEmpty {
            state.withLock { $0.logger }.info("\(name): reading \(started.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ", "))")
        }
    }

    // MARK: Fetch thread

    private func startFetcher(_ consumer: KafkaConsumer) {
        state.withLock { $0.fetcherRunning = true }
        let thread = Thread { [self] in
            fetchLoop(consumer)
            fetcherStopped.signal()
        }
        thread.name = "sluice-kafka-fetch"
        thread.start()
    }

    private func fetchLoop(_ consumer: KafkaConsumer) {
        while !state.withLock({ $0.stopRequested }) {
            while seeksWaiting.withLock({ $0 }) > 0 { usleep(500) }
            fetchLock.lock()
            defer { fetchLock.unlock() }
            do {
                // consume_batch waits its whole timeout unless maxRecords
                // arrive, which held records up to 50 ms: take what is there,
                // and when nothing is, wait for the first record only.
                var records = try consumer.pollBatch(maxRecords: 10_000, timeout: .zero)
                if records.isEmpty { records = try consumer.pollBatch(maxRecords: 1, timeout: .milliseconds(50)) }
                let toPause = paused.withLock { paused in
                    let toPause = fetched.append(records)
                    paused.formUnion(toPause)
                    return toPause
                }
                if !toPause.isEmpty { try consumer.pause(toPause) }
                let tracked = fetched.trackedPartitions
                if !tracked.isEmpty {
                    var positions: [KafkaTopicPartition: Int64] = [:]
                    for (partition, position) in try consumer.position(tracked) {
                        if let position { positions[partition] = position }
                    }
                    fetched.updatePositions(positions)
                }
            } catch let error as KafkaError {
                state.withLock { $0.logger }.error("\(name): fetch failed: \(error)")
                if error.isFatal || !error.isRetriable {
                    state.withLock { $0.fetchError = error }
                    fetched.wakeAll()
                    return
                }
            } catch {
                state.withLock { $0.fetchError = KafkaError(code: .fail, message: "\(name): \(error)") }
                fetched.wakeAll()
                return
            }
        }
    }

    private func handle(_ event: KafkaConsumerEvent) {
        switch event {
        case .assigned(let partitions):
            fetched.track(partitions)
            state.withLock { state in
                for partition in partitions where state.nextOffsets[partition] == nil { state.needsStart.insert(partition) }
                state.logger.info("\(name): assigned \(partitions.map(\.description).joined(separator: ", "))")
            }
        case .revoked(let partitions), .lost(let partitions):
            state.withLock { $0.taskHooks }?.close(partitions.map { TaskID(topic: $0.topic, partition: $0.partition) })
            fetched.untrack(partitions)
            paused.withLock { $0.subtract(partitions) }
            state.withLock { state in
                for partition in partitions {
                    if let next = state.nextOffsets[partition] { state.positionsAtRevoke[partition] = next }
                    state.askedEnds[partition] = nil
                    state.nextOffsets[partition] = nil
                    state.needsStart.remove(partition)
                }
                state.logger.info("\(name): no longer reading \(partitions.map(\.description).joined(separator: ", "))")
            }
        case .committed(_, let error?):
            state.withLock { $0.logger }.warning("\(name): group commit failed: \(error)")
        case .committed, .error:
            break
        }
    }
}
