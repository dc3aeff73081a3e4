extension KafkaRecordBatch {
    /// Fills the columns of a poll's records through pointers into buffers
    /// sized for them, then packs them into ``Columns``: the decoder's loop
    /// writes each field with a store, where appending to seven arrays
    /// checked each array's uniqueness and capacity for every record.
    final class ColumnWriter {
        let capacity: Int
        private(set) var count = 0
        private let topicIndices: UnsafeMutablePointer<Int32>
        private let partitions: UnsafeMutablePointer<Int32>
        private let offsets: UnsafeMutablePointer<Int64>
        private let timestamps: UnsafeMutablePointer<Int64>
        private let timestampKinds: UnsafeMutablePointer<TimestampKind>
        /// `capacity + 1` positions: each record's start, then where the last one ends.
        private let starts: UnsafeMutablePointer<Int64>
        private let keyLengths: UnsafeMutablePointer<Int32>

        /// Room for `capacity` records whose bytes start at `start`.
        init(capacity: Int, start: Int = 0) {
            self.capacity = Swift.max(0, capacity)
            topicIndices = .allocate(capacity: self.capacity)
            partitions = .allocate(capacity: self.capacity)
            offsets = .allocate(capacity: self.capacity)
            timestamps = .allocate(capacity: self.capacity)
            timestampKinds = .allocate(capacity: self.capacity)
            starts = .allocate(capacity: self.capacity + 1)
            keyLengths = .allocate(capacity: self.capacity)
            starts.initialize(to: Int64(start))
        }

        deinit {
            topicIndices.deallocate()
            partitions.deallocate()
            offsets.deallocate()
            timestamps.deallocate()
            timestampKinds.deallocate()
            starts.deallocate()
            keyLengths.deallocate()
        }

        /// Adds a record whose key and value bytes follow the previous
        /// record's; `end` is where its bytes end. A record beyond the
        /// capacity is dropped (the decoder counts its records first).
        @inline(__always)
        func append(topicIndex: Int32, partition: Int32, offset: Int64, timestamp: Int64, kind: TimestampKind,
                    keyLength: Int, end: Int) {
            guard count < capacity else { return }
            topicIndices[count] = topicIndex
            partitions[count] = partition
            offsets[count] = offset
            timestamps[count] = timestamp
            timestampKinds[count] = kind
            starts[count + 1] = Int64(end)
            keyLengths[count] = Int32(keyLength)
            count += 1
        }

        /// The columns written so far.
        func columns() -> Columns {
            var columns = Columns()
            guard count > 0 else { return columns }
            columns.topicIndices = Array(UnsafeBufferPointer(start: topicIndices, count: count))
            columns.partitions = Array(UnsafeBufferPointer(start: partitions, count: count))
            columns.offsets = CompactIntegers(UnsafeBufferPointer(start: offsets, count: count))
            columns.timestamps = CompactIntegers(UnsafeBufferPointer(start: timestamps, count: count))
            columns.timestampKinds = Array(UnsafeBufferPointer(start: timestampKinds, count: count))
            columns.starts = CompactIntegers(UnsafeBufferPointer(start: starts, count: count + 1))
            columns.keyLengths = Array(UnsafeBufferPointer(start: keyLengths, count: count))
            return columns
        }
    }
}
