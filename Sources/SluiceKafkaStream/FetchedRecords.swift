import SluiceKafka
import Synchronization

/// Records fetched ahead of the batches, per partition, in offset order,
/// with waiting for the ranges a batch reads. Written by the fetch thread,
/// read by batch reads.
final class FetchedRecords: Sendable {
    struct PartitionBuffer {
        var records: [KafkaRecord] = []
        /// Index of the first record still held (records before it were taken).
        var head = 0
        /// The consumer's position: every offset below it has been fetched
        /// (or skipped as a transaction marker or aborted record).
        var position: Int64 = -1
        var paused = false
        var held: Int { records.count - head }

        mutating func compact() {
            if head > 4096 && head * 2 > records.count {
                records.removeFirst(head)
                head = 0
            }
        }
    }

    private struct State {
        var partitions: [KafkaTopicPartition: PartitionBuffer] = [:]
        /// Bumped on every change; waiters compare it to know they missed nothing.
        var version: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
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
    func reset(_ partition: KafkaTopicPartition) {
        state.withLock { state in
            if state.partitions[partition] != nil {
                state.partitions[partition] = PartitionBuffer()
            }
        }
    }

    /// Adds fetched records; returns the partitions to pause because they
    /// hold more than `maxHeldPerPartition`.
    func append(_ records: [KafkaRecord]) -> [KafkaTopicPartition] {
        guard !records.isEmpty else { return [] }
        let (toPause, waiters) = state.withLock { state -> ([KafkaTopicPartition], [CheckedContinuation<Void, Never>]) in
            var toPause: [KafkaTopicPartition] = []
            // A poll returns runs of records of one partition: the buffer is
            // looked up once per run, not once per record.
            var runStart = records.startIndex
            while runStart < records.endIndex {
                let first = records[runStart]
                var runEnd = runStart + 1
                while runEnd < records.endIndex && records[runEnd].partition == first.partition
                    && records[runEnd].offset > records[runEnd - 1].offset && records[runEnd].topic == first.topic {
                    runEnd += 1
                }
                defer { runStart = runEnd }
                let partition = first.topicPartition
                guard var buffer = state.partitions.removeValue(forKey: partition) else { continue }
                // (removed while mutating so the buffer stays uniquely referenced)
                if buffer.held > 0, let last = buffer.records.last, first.offset <= last.offset {
                    // A re-fetch after a seek backwards: keep offsets increasing.
                    let cut = buffer.records[buffer.head...].firstIndex { $0.offset >= first.offset } ?? buffer.records.count
                    buffer.records.removeSubrange(cut...)
                }
                buffer.records.append(contentsOf: records[runStart..<runEnd])
                buffer.position = max(buffer.position, records[runEnd - 1].offset + 1)
                if !buffer.paused && buffer.held >= maxHeldPerPartition {
                    buffer.paused = true
                    toPause.append(partition)
                }
                state.partitions[partition] = buffer
            }
            return (toPause, Self.bump(&state))
        }
        waiters.forEach { $0.resume() }
        return toPause
    }

    /// Records the consumer's position (it moves past transaction markers
    /// and aborted records without returning a record).
    func updatePositions(_ positions: [KafkaTopicPartition: Int64]) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var changed = false
            for (partition, position) in positions {
                guard var buffer = state.partitions[partition], position > buffer.position else { continue }
                buffer.position = position
                state.partitions[partition] = buffer
                changed = true
            }
            return changed ? Self.bump(&state) : []
        }
        waiters.forEach { $0.resume() }
    }

    /// The partitions whose records a read is waiting for, with the offset
    /// each still needs (for the fetch thread to check positions).
    var trackedPartitions: [KafkaTopicPartition] {
        state.withLock { Array($0.partitions.keys) }
    }

    struct Take {
        var records: [KafkaRecord]
        /// Every offset below `until` has been seen.
        var complete: Bool
        /// The partition was paused and now has room: resume it.
        var resume: Bool
        /// The partition is no longer tracked (revoked).
        var gone: Bool
        var version: UInt64
    }

    /// Removes and returns the held records with offsets in `[from, until)`.
    /// Records below `from` stay: they may belong to an earlier batch whose
    /// read has not taken them yet (reads of consecutive batches can
    /// overlap). Records from before a seek are dropped by `reset`.
    func take(_ partition: KafkaTopicPartition, from: Int64, until: Int64) -> Take {
        state.withLock { state in
            guard var buffer = state.partitions[partition] else {
                return Take(records: [], complete: false, resume: false, gone: true, version: state.version)
            }
            state.partitions[partition] = nil
            var start = buffer.head
            while start < buffer.records.count && buffer.records[start].offset < from { start += 1 }
            var end = start
            while end < buffer.records.count && buffer.records[end].offset < until { end += 1 }
            let taken = Array(buffer.records[start..<end])
            if start == buffer.head {
                buffer.head = end
                buffer.compact()
            } else if end > start {
                buffer.records.removeSubrange(start..<end)
            }
            let complete = buffer.position >= until
            var resume = false
            if buffer.paused && buffer.held < maxHeldPerPartition / 2 {
                buffer.paused = false
                resume = true
            }
            state.partitions[partition] = buffer
            return Take(records: taken, complete: complete, resume: resume, gone: false, version: state.version)
        }
    }

    /// Waits until anything changes after `version` (returns at once if it already has).
    func waitForChange(after version: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.version != version { return true }
                let id = state.nextWaiter
                state.nextWaiter += 1
                state.waiters[id] = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Wakes every waiter (used by timeouts and stop).
    func wakeAll() {
        let waiters = state.withLock { Self.bump(&$0) }
        waiters.forEach { $0.resume() }
    }

    private static func bump(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        state.version &+= 1
        let waiters = Array(state.waiters.values)
        state.waiters.removeAll()
        return waiters
    }
}
