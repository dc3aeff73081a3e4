import SluiceKafka
import SluiceTesting
import Synchronization
import XCTest

/// Records survive a trip through the mock cluster byte for byte.
final class RoundTripTests: XCTestCase {
    /// 100,000 records over 4 partitions, lz4-compressed so the mock's
    /// ~5 MB/partition retention keeps them all: every key, value, header and
    /// timestamp comes back, in order per partition, none missing or doubled.
    func testHundredThousandRecordsOverFourPartitionsComeBackExactly() throws {
        let count = 100_000
        let partitions: Int32 = 4
        let cluster = try MockCluster(brokers: 1)
        let topic = KafkaTestEnvironment.uniqueName("round-trip")
        try cluster.createTopic(topic, partitions: partitions)

        var producerConfiguration = KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers)
        producerConfiguration.compression = .lz4
        let producer = try KafkaProducer(configuration: producerConfiguration)
        for i in 0..<count {
            try producer.send(Self.message(i, topic: topic, partitions: partitions))
        }
        try producer.flush(timeout: .seconds(60))
        XCTAssertEqual(producer.deliveryCounts.delivered, count)
        XCTAssertEqual(producer.deliveryCounts.failed, 0)
        try producer.close()

        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? consumer.close() }
        var total: Int64 = 0
        for partition in KafkaTestSupport.partitions(topic, partitions) {
            let marks = try consumer.watermarks(of: partition)
            XCTAssertEqual(marks.low, 0, "the mock dropped old records of \(partition): retention exceeded")
            total += marks.high
        }
        XCTAssertEqual(total, Int64(count))

        try consumer.assign(Dictionary(uniqueKeysWithValues: KafkaTestSupport.partitions(topic, partitions).map { ($0, .beginning) }))
        let records = try KafkaTestSupport.consume(consumer, count: count, timeout: .seconds(60))
        XCTAssertEqual(records.count, count)

        var seen = [Bool](repeating: false, count: count)
        var nextSequence = [Int](repeating: -1, count: Int(partitions))
        var nextOffset = [Int64](repeating: 0, count: Int(partitions))
        var mismatches: [String] = []
        for record in records {
            guard let header = record.headers.first, header.name == "seq",
                let seqText = header.value.flatMap({ String(validating: $0, as: UTF8.self) }), let i = Int(seqText),
                i >= 0, i < count
            else {
                mismatches.append("record without a valid seq header at \(record.topicPartition)@\(record.offset)")
                continue
            }
            if seen[i] { mismatches.append("record \(i) doubled") }
            seen[i] = true
            let expected = Self.message(i, topic: topic, partitions: partitions)
            let p = Int(record.partition)
            if record.topic != topic || record.partition != expected.partition { mismatches.append("record \(i) in \(record.topicPartition)") }
            if record.key.map(Array.init) != expected.key { mismatches.append("record \(i) key") }
            if Array(record.value) != expected.value { mismatches.append("record \(i) value") }
            if record.headers != expected.headers { mismatches.append("record \(i) headers \(record.headers)") }
            if record.timestamp != KafkaTimestamp(milliseconds: expected.timestamp ?? -1, kind: .createTime) {
                mismatches.append("record \(i) timestamp \(String(describing: record.timestamp))")
            }
            // Produced in increasing i per partition, so both i and the
            // offset must increase (offsets by exactly one: nothing skipped).
            if i <= nextSequence[p] { mismatches.append("record \(i) out of order in partition \(p)") }
            if record.offset != nextOffset[p] { mismatches.append("record \(i) at offset \(record.offset), expected \(nextOffset[p])") }
            nextSequence[p] = i
            nextOffset[p] = record.offset + 1
            if mismatches.count > 20 { break }
        }
        XCTAssertEqual(mismatches, [], "first mismatches")
        let missing = seen.indices.filter { !seen[$0] }
        XCTAssertTrue(missing.isEmpty, "\(missing.count) records missing, first \(missing.prefix(5))")

        // Nothing more arrives: the log held exactly what was sent.
        XCTAssertEqual(try consumer.poll(maxRecords: 100, timeout: .milliseconds(300)).count, 0)
    }

    /// The async send returns the record's delivery report; the delivery
    /// handler sees every report with the id `send` returned.
    func testDeliveryReportsCarryPartitionOffsetAndTheSendID() async throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("reports", partitions: 2)
        let reports = Mutex<[KafkaDeliveryReport]>([])
        let producer = try KafkaProducer(
            configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers),
            onDelivery: { report in reports.withLock { $0.append(report) } })
        let sendNow: (KafkaProducerMessage) throws -> UInt = producer.send
        var ids: [UInt] = []
        for i in 0..<3 { ids.append(try sendNow(KafkaProducerMessage(topic: "reports", partition: 1, key: nil, value: "sync-\(i)"))) }
        let report: KafkaDeliveryReport = try await producer.send(KafkaProducerMessage(topic: "reports", partition: 1, key: nil, value: "async"))
        XCTAssertNil(report.error)
        XCTAssertEqual(report.topic, "reports")
        XCTAssertEqual(report.partition, 1)
        XCTAssertEqual(report.offset, 3, "after the three sent before it")
        try await producer.flush()
        let seen = reports.withLock { $0 }
        XCTAssertEqual(seen.map(\.id).sorted(), (ids + [report.id]).sorted())
        XCTAssertEqual(seen.filter { ids.contains($0.id) }.map(\.offset).sorted(), [0, 1, 2])
        XCTAssertEqual(producer.deliveryCounts.delivered, 4)
        try producer.close()
    }

    /// When the local queue is full, `send` waits for room instead of
    /// failing: a queue of 100 records still carries 5,000 in order.
    func testSendWaitsForRoomWhenTheLocalQueueIsFull() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("narrow", partitions: 1)
        var configuration = KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers)
        configuration.queueBufferingMaxMessages = 100
        let producer = try KafkaProducer(configuration: configuration)
        for i in 0..<5_000 {
            try producer.send(KafkaProducerMessage(topic: "narrow", partition: 0, key: nil, value: "value-\(i)"))
        }
        try producer.flush()
        XCTAssertEqual(producer.deliveryCounts.delivered, 5_000)
        try producer.close()
        let consumer = try KafkaConsumer(configuration: KafkaTestEnvironment.consumerConfiguration(bootstrap: cluster.bootstrapServers))
        defer { try? consumer.close() }
        try consumer.assign([KafkaTopicPartition(topic: "narrow", partition: 0): .beginning])
        let records = try KafkaTestSupport.consume(consumer, count: 5_000, timeout: .seconds(20))
        KafkaTestSupport.assertExactlyOnce(records, count: 5_000)
        XCTAssertEqual(records.compactMap(KafkaTestSupport.index(of:)), Array(0..<5_000), "in the order sent")
    }

    /// Concurrent async sends beyond the local queue's capacity wait for
    /// room instead of failing with `queueFull`.
    func testConcurrentAsyncSendsWaitForRoomWhenTheQueueIsFull() async throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("crowded", partitions: 1)
        var configuration = KafkaTestEnvironment.producerConfiguration(bootstrap: cluster.bootstrapServers)
        configuration.queueBufferingMaxMessages = 10
        let producer = try KafkaProducer(configuration: configuration)
        let offsets = try await withThrowingTaskGroup(of: Int64.self) { group in
            for i in 0..<500 {
                group.addTask {
                    let report: KafkaDeliveryReport = try await producer.send(
                        KafkaProducerMessage(topic: "crowded", partition: 0, key: nil, value: "value-\(i)"))
                    return report.offset
                }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        XCTAssertEqual(offsets.sorted(), Array(0..<500))
        try await producer.flush()
        try producer.close()
    }

    /// Record `i`: a mix of shapes (no key, empty key, empty value, binary
    /// bytes, repeated and valueless headers) so each survives the trip.
    static func message(_ i: Int, topic: String, partitions: Int32) -> KafkaProducerMessage {
        let key: [UInt8]? =
            switch i % 100 {
            case 0: nil
            case 1: []
            default: Array("key-\(i)".utf8)
            }
        var value: [UInt8] = i % 97 == 0 ? [] : Array("v\(i)-".utf8) + [UInt8(i & 0xFF), 0, 0xFF]
        if i % 1_000 == 3 { value += [UInt8](repeating: UInt8(i % 251), count: 200) }
        var headers = [KafkaHeader(name: "seq", string: String(i))]
        if i % 3 == 0 { headers.append(KafkaHeader(name: "flag", value: nil)) }
        if i % 5 == 0 { headers += [KafkaHeader(name: "rep", string: "a"), KafkaHeader(name: "rep", value: [0, 1, 2])] }
        return KafkaProducerMessage(
            topic: topic, partition: Int32(i % Int(partitions)), key: key, value: value, headers: headers,
            timestamp: 1_700_000_000_000 + Int64(i))
    }
}
