import SluiceKafka
import Synchronization

/// Records fetched ahead of the batches, per partition, in offset order,
/// with waiting for the ranges a batch reads. Written by the fetch thread,
/// read by batch reads.
final class FetchedRecords: Sendable {
    struct PartitionBuffer {
        /// Held records in offset order.
        var segments: [RecordSegment] = []
        /// The consumer's position: every offset below it has been fetched
        /// (or skipped as a transaction marker or aborted record).
        var position: Int64 = -1
        var paused = false
        private(set) var held = 0
        /// After a seek back: the consumer's position from before it, which
        /// librdkafka may still report until the first record after the
        /// seek; not taken as the position until a record arrives (it would
        /// mark the seek's range as seen with its records not yet fetched).
        var positionBeforeSeek: Int64?

        mutating func append(_ segment: RecordSegment) {
            if held > 0, let last = segments.last, segment.firstOffset <= last.lastOffset {
                // A re-fetch after a seek backwards: keep offsets increasing.
                removeRecords(atOrAfter: segment.firstOffset)
            }
            segments.append(segment)
            held += segment.count
        }

        mutating func removeRecords(atOrAfter offset: Int64) {
            while let last = segments.last, last.lastOffset >= offset {
                segments.removeLast()
                held -= last.count
                if let kept = last.slice(last.range.lowerBound..<last.firstIndex(atOrAfter: offset)) {
                    segments.append(kept)
                    held += kept.count
                    break
                }
            }
        }

        /// Removes and returns the held records with offsets in `[from, until)`.
        mutating func take(from: Int64, until: Int64) -> [RecordSegment] {
            var taken: [RecordSegment] = []
            var kept: [RecordSegment] = []
            kept.reserveCapacity(segments.count)
            for segment in segments {
                if segment.lastOffset < from || segment.firstOffset >= until {
                    kept.append(segment)
                    continue
                }
                let lower = segment.firstIndex(atOrAfter: from)
                let upper = segment.firstIndex(atOrAfter: until)
                if let before = segment.slice(segment.range.lowerBound..<lower) { kept.append(before) }
                if let inside = segment.slice(lower..<upper) { taken.append(inside) }
                if let after = segment.slice(upper..<segment.range.upperBound) { kept.append(after) }
            }
            segments = kept
            held -= taken.reduce(0) { $0 + $1.count }
            return taken
        }
    }

    private struct State {
        var partitions: [KafkaTopicPartition: PartitionBuffer] = [:]
        /// Bumped on every change; waiters compare it to know they missed nothing.
        var version: UInt64 = 0
        /// Each waiter with the partition it waits for (nil: any change).
        var waiters: [UInt64: (partition: KafkaTopicPartition?, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())
    let maxHeldPerPartition: Int

    init(maxHeldPerPartition: Int) {
        self.maxHeldPerPartition = maxHeldPerPartition
    }

    /// Starts tracking partitions (from a new assignment).
    func track(_ partitions: [KafkaTopicPartition]) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            for partition in partitions where state.partitions[partition] == nil {
                state.partitions[partition] = PartitionBuffer()
            }
            return Self.bump(&state)
        }
        waiters.forEach { $0.resume() }
    }

    /// Stops tracking partitions (revoked or lost) and drops their records.
    func untrack(_ partitions: [KafkaTopicPartition]) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            for partition in partitions { state.partitions[partition] = nil }
            return Self.bump(&state)
        }
        waiters.forEach { $0.resume() }
    }

    /// Forgets what was fetched for a partition (after a seek).
    func reset(_ partition: KafkaTopicPartition, seekedTo offset: Int64? = nil, positionBeforeSeek: Int64? = nil) {
        state.withLock { state in
            if state.partitions[partition] != nil {
                var buffer = PartitionBuffer()
                if let offset, let before = positionBeforeSeek, before > offset { buffer.positionBeforeSeek = before }
                state.partitions[partition] = buffer
            }
        }
    }

    /// Adds fetched records; returns the partitions to pause because they
    /// hold more than `maxHeldPerPartition`.
    func append(_ batch: KafkaRecordBatch) -> [KafkaTopicPartition] {
        guard !batch.isEmpty else { return [] }
        // A poll returns a few runs of records of one partition: the buffer
        // is looked up once per run, not once per record.
        let runs = batch.partitionRuns()
        let (toPause, waiters) = state.withLock { state -> ([KafkaTopicPartition], [CheckedContinuation<Void, Never>]) in
            var toPause: [KafkaTopicPartition] = []
            for run in runs {
                let partition = KafkaTopicPartition(topic: run.topic, partition: run.partition)
                // Removed while mutating, so the buffer stays uniquely referenced.
                guard var buffer = state.partitions.removeValue(forKey: partition) else { continue }
                let segment = RecordSegment(batch: batch, range: run.range)
                buffer.append(segment)
                buffer.positionBeforeSeek = nil
                buffer.position = max(buffer.position, segment.lastOffset + 1)
                if !buffer.paused && buffer.held >= maxHeldPerPartition {
                    buffer.paused = true
                    toPause.append(partition)
                }
                state.partitions[partition] = buffer
            }
            return (toPause, Self.bump(&state, only: Set(runs.map { KafkaTopicPartition(topic: $0.topic, partition: $0.partition) })))
        }
        waiters.forEach { $0.resume() }
        return toPause
    }

    /// Adds fetched records (tests).
    func append(_ records: [KafkaRecord]) -> [KafkaTopicPartition] {
        append(KafkaRecordBatch(records))
    }

    /// Records the consumer's position (it moves past transaction markers
    /// and aborted records without returning a record).
    func updatePositions(_ positions: [KafkaTopicPartition: Int64]) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var changed: Set<KafkaTopicPartition> = []
            for (partition, position) in positions {
                guard var buffer = state.partitions[partition], position > buffer.position,
                      position != buffer.positionBeforeSeek else { continue }
                buffer.position = position
                state.partitions[partition] = buffer
                changed.insert(partition)
            }
            return changed.isEmpty ? [] : Self.bump(&state, only: changed)
        }
        waiters.forEach { $0.resume() }
    }

    /// The partitions whose records a read is waiting for, with the offset
    /// each still needs (for the fetch thread to check positions).
    var trackedPartitions: [KafkaTopicPartition] {
        state.withLock { Array($0.partitions.keys) }
    }

    struct Take {
        var segments: [RecordSegment]
        /// Every offset below `until` has been seen.
        var complete: Bool
        /// The partition was paused and now has room: resume it.
        var resume: Bool
        /// The partition is no longer tracked (revoked).
        var gone: Bool
        var version: UInt64

        var count: Int { segments.reduce(0) { $0 + $1.count } }
        var lastOffset: Int64? { segments.last?.lastOffset }
        /// The taken records, built (tests).
        var records: [KafkaRecord] {
            var records: [KafkaRecord] = []
            for segment in segments { segment.forEach { records.append($0) } }
            return records
        }
    }

    /// Removes and returns the held records with offsets in `[from, until)`.
    /// Records below `from` stay: they may belong to an earlier batch whose
    /// read has not taken them yet (reads of consecutive batches can
    /// overlap). Records from before a seek are dropped by `reset`.
    func take(_ partition: KafkaTopicPartition, from: Int64, until: Int64) -> Take {
        state.withLock { state in
            guard var buffer = state.partitions.removeValue(forKey: partition) else {
                return Take(segments: [], complete: false, resume: false, gone: true, version: state.version)
            }
            let taken = buffer.take(from: from, until: until)
            let complete = buffer.position >= until
            var resume = false
            if buffer.paused && buffer.held < maxHeldPerPartition / 2 {
                buffer.paused = false
                resume = true
            }
            state.partitions[partition] = buffer
            return Take(segments: taken, complete: complete, resume: resume, gone: false, version: state.version)
        }
    }

    /// Records held over every partition (fetched, not yet taken by a
    /// batch), with the version they were counted at.
    var heldRecords: (count: Int, version: UInt64) {
        state.withLock { state in (state.partitions.values.reduce(0) { $0 + $1.held }, state.version) }
    }

    /// Waits until anything changes after `version` (returns at once if it
    /// already has). With a partition, records or positions of other
    /// partitions do not wake it (eight readers woken by every poll took
    /// the fetch thread's lock eight times a poll); tracking changes, stop
    /// and timeouts wake every waiter.
    func waitForChange(of partition: KafkaTopicPartition? = nil, after version: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.version != version { return true }
                let id = state.nextWaiter
                state.nextWaiter += 1
                state.waiters[id] = (partition, continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Waiters not woken yet (tests).
    var waiterCount: Int { state.withLock { $0.waiters.count } }

    /// Wakes every waiter (used by timeouts and stop).
    func wakeAll() {
        let waiters = state.withLock { Self.bump(&$0) }
        waiters.forEach { $0.resume() }
    }

    /// Records a change and takes the waiters to wake: those waiting for a
    /// partition in `only` or for any change, or all when `only` is nil.
    private static func bump(_ state: inout State, only: Set<KafkaTopicPartition>? = nil) -> [CheckedContinuation<Void, Never>] {
        state.version &+= 1
        guard let only else {
            let waiters = state.waiters.values.map(\.continuation)
            state.waiters.removeAll()
            return waiters
        }
        var woken: [CheckedContinuation<Void, Never>] = []
        for (id, waiter) in state.waiters where waiter.partition.map(only.contains) ?? true {
            woken.append(waiter.continuation)
            state.waiters[id] = nil
        }
        return woken
    }
}
