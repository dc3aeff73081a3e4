import Foundation
import SluiceKafka
import SluiceTesting
import XCTest

/// Helpers shared by the Kafka client tests: every wait is bounded by a
/// deadline and polls instead of sleeping.
enum KafkaTestSupport {
    /// Polls `consumer` until `count` records arrived or `timeout` passed;
    /// returns what arrived (the caller asserts the count).
    static func consume(
        _ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30),
        onBatch: ([KafkaRecord]) throws -> Void = { _ in }
    ) throws -> [KafkaRecord] {
        var records: [KafkaRecord] = []
        let deadline = ContinuousClock.now + timeout
        while records.count < count && ContinuousClock.now < deadline {
            let batch = try consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100))
            try onBatch(batch)
            records += batch
        }
        return records
    }

    /// Polls until `condition` holds for the records collected so far or
    /// `timeout` passed; returns whether it held.
    @discardableResult
    static func pollUntil(
        _ consumer: KafkaConsumer, timeout: Duration, collecting records: inout [KafkaRecord],
        _ condition: ([KafkaRecord]) throws -> Bool
    ) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition(records) { return true }
            records += try consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100))
        }
        return try condition(records)
    }

    /// Waits (without sleeping on a fixed time) until `condition` holds.
    @discardableResult
    static func waitUntil(timeout: Duration, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return try condition()
    }

    /// Produces `count` UTF-8 records `key-i` → `value-i` round-robin over
    /// `partitions` partitions and waits for every delivery.
    static func produce(
        _ count: Int, to topic: String, partitions: Int32, bootstrap: String, offset start: Int = 0
    ) throws {
        let producer = try KafkaProducer(configuration: KafkaTestEnvironment.producerConfiguration(bootstrap: bootstrap))
        for i in start..<(start + count) {
            try producer.send(KafkaProducerMessage(
                topic: topic, partition: Int32(i % Int(partitions)), key: "key-\(i)", value: "value-\(i)"))
        }
        try producer.flush(timeout: .seconds(30))
        try producer.close()
    }

    /// The `i` of a record produced by ``produce(_:to:partitions:bootstrap:offset:)``.
    static func index(of record: KafkaRecord) -> Int? {
        guard let value = record.valueString, value.hasPrefix("value-") else { return nil }
        return Int(value.dropFirst("value-".count))
    }

    /// Asserts that `records` hold each of `0..<count` exactly once, in
    /// increasing offset order per partition.
    static func assertExactlyOnce(
        _ records: [KafkaRecord], count: Int, file: StaticString = #filePath, line: UInt = #line
    ) {
        var seen = [Int](repeating: 0, count: count)
        var stray = 0
        for record in records {
            if let i = index(of: record), i >= 0, i < count { seen[i] += 1 } else { stray += 1 }
        }
        let missing = seen.indices.filter { seen[$0] == 0 }
        let doubled = seen.indices.filter { seen[$0] > 1 }
        XCTAssertEqual(stray, 0, "records that were never produced", file: file, line: line)
        XCTAssertTrue(missing.isEmpty, "\(missing.count) records missing, first \(missing.prefix(5))", file: file, line: line)
        XCTAssertTrue(doubled.isEmpty, "\(doubled.count) records doubled, first \(doubled.prefix(5))", file: file, line: line)
        assertOrderedPerPartition(records, file: file, line: line)
    }

    /// Asserts offsets strictly increase within each partition.
    static func assertOrderedPerPartition(_ records: [KafkaRecord], file: StaticString = #filePath, line: UInt = #line) {
        var last: [KafkaTopicPartition: Int64] = [:]
        var violations = 0
        for record in records {
            if let previous = last[record.topicPartition], record.offset <= previous { violations += 1 }
            last[record.topicPartition] = record.offset
        }
        XCTAssertEqual(violations, 0, "records out of offset order within a partition", file: file, line: line)
    }

    /// The partitions `0..<count` of `topic`.
    static func partitions(_ topic: String, _ count: Int32) -> [KafkaTopicPartition] {
        (0..<count).map { KafkaTopicPartition(topic: topic, partition: $0) }
    }
}
