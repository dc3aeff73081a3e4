import SluiceWorkloads
import XCTest
@testable import SluiceKafka

/// The column-wise batch a poll returns: every field of every record comes
/// back as it went in, and runs cut it where the partition changes or the
/// offsets stop increasing.
final class KafkaRecordBatchTests: XCTestCase {
    private func sample(_ count: Int, seed: UInt64) -> [KafkaRecord] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let partition = Int32(generator.next() % 3)
            let keyKind = generator.next() % 3
            let key: [UInt8]? = keyKind == 0 ? nil : keyKind == 1 ? [] : Array("k\(index)".utf8)
            let value: [UInt8] = generator.next() % 5 == 0 ? [] : (0..<Int(generator.next() % 40)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let timestamp: KafkaTimestamp? = switch generator.next() % 3 {
            case 0: nil
            case 1: KafkaTimestamp(milliseconds: Int64(index) * 7, kind: .createTime)
            default: KafkaTimestamp(milliseconds: Int64(index) * 11, kind: .logAppendTime)
            }
            let headers = generator.next() % 4 == 0 ? [KafkaHeader(name: "h", string: "\(index)"), KafkaHeader(name: "n", value: nil)] : []
            return KafkaRecord(topic: generator.next() % 2 == 0 ? "a" : "topic-with-a-long-name",
                               partition: partition, offset: Int64(index / 2), timestamp: timestamp,
                               key: key, value: value, headers: headers)
        }
    }

    func testEveryFieldOfEveryRecordComesBack() {
        for seed in 0..<50 as Range<UInt64> {
            let records = sample(200, seed: seed)
            let batch = KafkaRecordBatch(records)
            XCTAssertEqual(batch.count, records.count)
            for (index, record) in records.enumerated() {
                let read = batch[index]
                XCTAssertEqual(read.topic, record.topic)
                XCTAssertEqual(read.partition, record.partition)
                XCTAssertEqual(read.offset, record.offset)
                XCTAssertEqual(read.timestamp, record.timestamp)
                XCTAssertEqual(read.key.map(Array.init), record.key.map(Array.init), "record \(index) key")
                XCTAssertEqual(Array(read.value), Array(record.value), "record \(index) value")
                XCTAssertEqual(read.headers, record.headers)
                XCTAssertEqual(batch.offset(at: index), record.offset)
                XCTAssertEqual(batch.partition(at: index), record.partition)
                XCTAssertEqual(batch.topic(at: index), record.topic)
            }
            XCTAssertEqual(batch.byteCount, records.reduce(0) { $0 + ($1.key?.count ?? 0) + $1.value.count })
        }
    }

    func testOffsetsAndTimestampsFarApartComeBackExactly() {
        let far: [Int64] = [0, 5, Int64(Int32.max) + 10, 3, Int64.max - 1, Int64.min + 1, -1, 1 << 40]
        let records = far.enumerated().map { index, value in
            KafkaRecord(topic: "t", partition: Int32(index), offset: value,
                        timestamp: KafkaTimestamp(milliseconds: far[far.count - 1 - index]), value: Array("\(index)".utf8))
        }
        let batch = KafkaRecordBatch(records)
        XCTAssertEqual(batch.map(\.offset), far)
        XCTAssertEqual(batch.map { $0.timestamp?.milliseconds ?? 0 }, Array(far.reversed()))
        XCTAssertEqual(batch.map { String(decoding: $0.value, as: UTF8.self) }, (0..<far.count).map { "\($0)" })
    }

    func testCompactIntegersWidenOnlyWhenAValueDoesNotFit() {
        var column = CompactIntegers()
        for value in [1_000_000_000_000 as Int64, 1_000_000_000_001, 999_999_999_999] { column.append(value) }
        XCTAssertNil(column.wide, "close values stay 4 bytes each")
        column.append(0)
        XCTAssertNotNil(column.wide)
        column.append(7)
        XCTAssertEqual((0..<column.count).map { column[$0] }, [1_000_000_000_000, 1_000_000_000_001, 999_999_999_999, 0, 7])
    }

    /// The decoder's column writer packs the same columns as appending
    /// record by record, widening a column exactly when a value is too far
    /// from the first.
    func testColumnWriterPacksLikeAppending() {
        let far: [Int64] = [7, 8, Int64(Int32.max) + 7, 9]
        for values in [[Int64](), [42], [1_000_000_000_000, 1_000_000_000_001, 999_999_999_999], far] {
            var appended = CompactIntegers()
            for value in values { appended.append(value) }
            let packed = values.withUnsafeBufferPointer { CompactIntegers($0) }
            XCTAssertEqual(packed.wide == nil, appended.wide == nil, "\(values)")
            XCTAssertEqual((0..<packed.count).map { packed[$0] }, values)
        }
        for seed in 0..<20 as Range<UInt64> {
            var generator = SeededGenerator(seed: seed)
            let count = Int(generator.next() % 50)
            let writer = KafkaRecordBatch.ColumnWriter(capacity: count)
            var appended = KafkaRecordBatch.Columns()
            var end = 0
            for index in 0..<count {
                let start = end
                let keyLength = Int(generator.next() % 4) - 1
                end += max(0, keyLength) + Int(generator.next() % 20)
                let offset = seed == 3 && index == 5 ? Int64.max : Int64(index)
                let kind: KafkaRecordBatch.TimestampKind = [.none, .createTime, .logAppendTime][index % 3]
                writer.append(topicIndex: Int32(index % 2), partition: Int32(index % 3), offset: offset,
                              timestamp: 1_700_000_000_000 + Int64(index), kind: kind, keyLength: keyLength, end: end)
                appended.append(topicIndex: Int32(index % 2), partition: Int32(index % 3), offset: offset,
                                timestamp: 1_700_000_000_000 + Int64(index), kind: kind, start: start, keyLength: keyLength, end: end)
            }
            let written = writer.columns()
            XCTAssertEqual(written.topicIndices, appended.topicIndices)
            XCTAssertEqual(written.partitions, appended.partitions)
            XCTAssertEqual(written.timestampKinds, appended.timestampKinds)
            XCTAssertEqual(written.keyLengths, appended.keyLengths)
            for (a, b) in [(written.offsets, appended.offsets), (written.timestamps, appended.timestamps), (written.starts, appended.starts)] {
                XCTAssertEqual(a.count, b.count)
                XCTAssertEqual(a.wide == nil, b.wide == nil)
                XCTAssertEqual((0..<a.count).map { a[$0] }, (0..<b.count).map { b[$0] })
            }
        }
    }

    func testRunsCoverTheBatchAndBreakWhereThePartitionOrOrderChanges() {
        for seed in 0..<50 as Range<UInt64> {
            let records = sample(300, seed: seed)
            let runs = KafkaRecordBatch(records).partitionRuns()
            XCTAssertEqual(runs.map(\.range.lowerBound).first, 0)
            XCTAssertEqual(runs.last?.range.upperBound, records.count)
            for (run, next) in zip(runs, runs.dropFirst()) {
                XCTAssertEqual(run.range.upperBound, next.range.lowerBound, "contiguous")
                let last = records[run.range.upperBound - 1], first = records[next.range.lowerBound]
                XCTAssertTrue(last.topic != first.topic || last.partition != first.partition || first.offset <= last.offset,
                              "a run ends only where it must")
            }
            for run in runs {
                for index in run.range {
                    XCTAssertEqual(records[index].topic, run.topic)
                    XCTAssertEqual(records[index].partition, run.partition)
                    if index > run.range.lowerBound { XCTAssertGreaterThan(records[index].offset, records[index - 1].offset) }
                }
            }
        }
    }
}
