/// The records of one poll, stored column by column: every key and value in
/// one shared byte array, and per record only its partition, offset,
/// timestamp and where its bytes are (about 25 bytes: offsets, timestamps
/// and positions are kept as 32-bit differences while they fit). A
/// ``KafkaRecord`` is built when an element is read (its key and value are
/// slices of the shared array, nothing is copied).
///
/// Holding a million fetched records this way takes their bytes plus ~25 MB,
/// where an array of ``KafkaRecord``s takes their bytes plus ~130 MB.
public struct KafkaRecordBatch: RandomAccessCollection, Sendable {
    public typealias Index = Int

    @usableFromInline let topics: [String]
    @usableFromInline let bytes: [UInt8]
    @usableFromInline let columns: Columns
    /// Headers of the records that have any, by index (most records have none).
    @usableFromInline let headers: [Int: [KafkaHeader]]

    /// One array per field, one element per record.
    @usableFromInline
    struct Columns: Sendable {
        @usableFromInline var topicIndices: [Int32] = []
        @usableFromInline var partitions: [Int32] = []
        @usableFromInline var offsets = CompactIntegers()
        /// Milliseconds; the kind says whether there is one.
        @usableFromInline var timestamps = CompactIntegers()
        @usableFromInline var timestampKinds: [TimestampKind] = []
        /// Where the record's key (then its value) starts in `bytes`, and
        /// after the last record where its bytes end: a record's bytes run to
        /// the next record's start.
        @usableFromInline var starts = CompactIntegers()
        /// -1 for a record without a key.
        @usableFromInline var keyLengths: [Int32] = []

        /// Adds a record whose key and value bytes follow the previous
        /// record's; `end` is where its bytes end.
        mutating func append(topicIndex: Int32, partition: Int32, offset: Int64, timestamp: Int64, kind: TimestampKind,
                             start: Int, keyLength: Int, end: Int) {
            topicIndices.append(topicIndex)
            partitions.append(partition)
            offsets.append(offset)
            timestamps.append(timestamp)
            timestampKinds.append(kind)
            if starts.count == 0 { starts.append(Int64(start)) }
            starts.append(Int64(end))
            keyLengths.append(Int32(keyLength))
        }
    }

    @usableFromInline
    enum TimestampKind: UInt8, Sendable {
        case none, createTime, logAppendTime
    }

    init(topics: [String], bytes: [UInt8], columns: Columns, headers: [Int: [KafkaHeader]]) {
        self.topics = topics
        self.bytes = bytes
        self.columns = columns
        self.headers = headers
    }

    /// No records.
    public init() {
        self.init(topics: [], bytes: [], columns: Columns(), headers: [:])
    }

    /// A batch holding copies of `records` (tests, replays).
    public init(_ records: some Sequence<KafkaRecord>) {
        var topics: [String] = []
        var topicIndices: [String: Int32] = [:]
        var columns = Columns()
        var bytes: [UInt8] = []
        var headers: [Int: [KafkaHeader]] = [:]
        for record in records {
            let topicIndex: Int32
            if let known = topicIndices[record.topic] {
                topicIndex = known
            } else {
                topicIndex = Int32(topics.count)
                topics.append(record.topic)
                topicIndices[record.topic] = topicIndex
            }
            let kind: TimestampKind = switch record.timestamp?.kind {
            case nil: .none
            case .createTime: .createTime
            case .logAppendTime: .logAppendTime
            }
            let start = bytes.count
            if let key = record.key { bytes += key }
            bytes += record.value
            columns.append(topicIndex: topicIndex, partition: record.partition, offset: record.offset,
                           timestamp: record.timestamp?.milliseconds ?? -1, kind: kind,
                           start: start, keyLength: record.key?.count ?? -1, end: bytes.count)
            if !record.headers.isEmpty { headers[columns.partitions.count - 1] = record.headers }
        }
        self.init(topics: topics, bytes: bytes, columns: columns, headers: headers)
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { columns.partitions.count }

    // Not inlinable: it builds the record with KafkaRecord's memberwise
    // initializer (internal), the one the optimizer does not copy.
    public subscript(position: Int) -> KafkaRecord {
        let start = Int(columns.starts[position])
        let end = Int(columns.starts[position + 1])
        let keyLength = Int(columns.keyLengths[position])
        let valueStart = start + Swift.max(0, keyLength)
        let timestamp: KafkaTimestamp? = switch columns.timestampKinds[position] {
        case .none: nil
        case .createTime: KafkaTimestamp(milliseconds: columns.timestamps[position], kind: .createTime)
        case .logAppendTime: KafkaTimestamp(milliseconds: columns.timestamps[position], kind: .logAppendTime)
        }
        return KafkaRecord(
            topic: topics[Int(columns.topicIndices[position])], partition: columns.partitions[position],
            offset: columns.offsets[position], timestamp: timestamp,
            value: bytes[valueStart..<end], key: keyLength < 0 ? nil : bytes[start..<valueStart],
            headers: headers.isEmpty ? [] : headers[position] ?? [])
    }

    /// The topic of the record at `position`, without building the record.
    @inlinable
    public func topic(at position: Int) -> String { topics[Int(columns.topicIndices[position])] }

    /// The partition of the record at `position`, without building the record.
    @inlinable
    public func partition(at position: Int) -> Int32 { columns.partitions[position] }

    /// The offset of the record at `position`, without building the record.
    @inlinable
    public func offset(at position: Int) -> Int64 { columns.offsets[position] }

    /// The batch cut into runs of consecutive records of one topic partition
    /// with increasing offsets (a poll returns a few long runs).
    public func partitionRuns() -> [(topic: String, partition: Int32, range: Range<Int>)] {
        var runs: [(topic: String, partition: Int32, range: Range<Int>)] = []
        var start = 0
        while start < endIndex {
            var end = start + 1
            while end < endIndex && columns.partitions[end] == columns.partitions[start]
                && columns.topicIndices[end] == columns.topicIndices[start]
                && columns.offsets[end] > columns.offsets[end - 1] {
                end += 1
            }
            runs.append((topics[Int(columns.topicIndices[start])], columns.partitions[start], start..<end))
            start = end
        }
        return runs
    }

    /// The number of key and value bytes the batch holds.
    public var byteCount: Int { bytes.count }
}
