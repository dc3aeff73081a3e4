import Sluice
import SluiceKafka

/// Where a repartitioned pair came from: the upstream record's offset and
/// the pair's index among that record's outputs. Positions of one upstream
/// partition grow in the order its records are written.
public struct RepartitionPosition: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var offset: Int64
    public var index: Int32

    public static func < (lhs: Self, rhs: Self) -> Bool { (lhs.offset, lhs.index) < (rhs.offset, rhs.index) }

    public var description: String { "\(offset)#\(index)" }
}

/// One pair of a repartition message: its upstream partition and position,
/// and the encoded key and value.
struct RepartitionEntry: Sendable {
    var upstream: TaskID
    var position: RepartitionPosition
    var key: [UInt8]
    var value: [UInt8]
}

/// The value of a message of a repartition topic: the entries of one
/// upstream partition bound for one partition of the topic, in order.
///
/// Layout: `S` `1`, the upstream topic (length, bytes) and partition, the
/// entry count, then per entry its offset, index, key (length, bytes) and
/// value (length, bytes); every number a LEB128 varint.
enum RepartitionRecord {
    static let magic: [UInt8] = [0x53, 0x01]
    /// Messages are cut at about this size (Kafka's default limit is 1 MB).
    static let targetBytes = 256 * 1024

    /// Builds the messages of one upstream partition for one destination.
    struct Builder {
        let upstream: TaskID
        private(set) var messages: [[UInt8]] = []
        private var entries: [UInt8] = []
        private var count = 0

        init(upstream: TaskID) { self.upstream = upstream }

        mutating func append(position: RepartitionPosition, key: [UInt8], value: [UInt8]) {
            Varint.append(UInt64(position.offset), to: &entries)
            Varint.append(UInt64(position.index), to: &entries)
            Varint.append(UInt64(key.count), to: &entries)
            entries.append(contentsOf: key)
            Varint.append(UInt64(value.count), to: &entries)
            entries.append(contentsOf: value)
            count += 1
            if entries.count >= RepartitionRecord.targetBytes { cut() }
        }

        /// The messages, the last one included.
        mutating func finish() -> [[UInt8]] {
            cut()
            return messages
        }

        private mutating func cut() {
            guard count > 0 else { return }
            var message = RepartitionRecord.magic
            Varint.append(UInt64(upstream.topic.utf8.count), to: &message)
            message.append(contentsOf: upstream.topic.utf8)
            Varint.append(UInt64(UInt32(bitPattern: upstream.partition)), to: &message)
            Varint.append(UInt64(count), to: &message)
            message.append(contentsOf: entries)
            messages.append(message)
            entries = []
            count = 0
        }
    }

    /// A message's entries; throws naming the record when it is not one.
    static func entries(of record: KafkaRecord) throws -> [RepartitionEntry] {
        var reader = Varint.Reader(record.value)
        func fail(_ what: String) -> StreamingError {
            StreamingError(code: .sourceFailed, message: "\(record.topicPartition)@\(record.offset) is not a repartition record: \(what)")
        }
        guard reader.take(2) == magic[...] else { throw fail("no 'S1' header") }
        guard let topicLength = reader.varint(), let topicBytes = reader.take(Int(topicLength)),
              let partition = reader.varint(), let count = reader.varint()
        else { throw fail("truncated header") }
        let upstream = TaskID(topic: String(decoding: topicBytes, as: UTF8.self), partition: Int32(bitPattern: UInt32(truncatingIfNeeded: partition)))
        var entries: [RepartitionEntry] = []
        entries.reserveCapacity(Int(min(count, 1 << 20)))
        for _ in 0..<count {
            guard let offset = reader.varint(), let index = reader.varint(),
                  let keyLength = reader.varint(), let key = reader.take(Int(keyLength)),
                  let valueLength = reader.varint(), let value = reader.take(Int(valueLength))
            else { throw fail("truncated entry") }
            entries.append(RepartitionEntry(
                upstream: upstream, position: RepartitionPosition(offset: Int64(offset), index: Int32(truncatingIfNeeded: index)),
                key: Array(key), value: Array(value)))
        }
        return entries
    }

    /// The partition of the repartition topic for an encoded key: FNV-1a of
    /// its bytes, the same in every process and run (Swift's `Hasher` is
    /// seeded per process).
    static func partition(ofKey key: [UInt8], partitions: Int32) -> Int32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int32(hash % UInt64(partitions))
    }
}

/// LEB128 unsigned varints.
enum Varint {
    static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    struct Reader {
        let bytes: ArraySlice<UInt8>
        var index: ArraySlice<UInt8>.Index

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            index = bytes.startIndex
        }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.endIndex, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }

        mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, bytes.endIndex - index >= count else { return nil }
            defer { index += count }
            return bytes[index..<(index + count)]
        }
    }
}
