import Foundation
import SluiceKafka
import SluiceWorkloads

/// A topic of generated word lines (SluiceWorkloads' `.words`: 5–15 Zipf
/// words from a 10,000-word vocabulary) in an embedded mock cluster,
/// produced compressed (zstd by default: with lz4, 1,000,000 lines over 8
/// partitions overflow the mock's ~5 MB per-partition retention) so the
/// mock keeps all of them; every partition's low watermark is checked to be 0.
enum WordTopic {
    struct Filled {
        var lines: Int
        var words: Int
        var bytes: Int
    }

    static func fill(cluster: MockCluster, topic: String, partitions: Int32, lines: Int, seed: UInt64 = 42,
                     compression: KafkaCompression = .lz4) throws -> Filled {
        try cluster.createTopic(topic, partitions: partitions)
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.compression = compression
        // Large message sets compress best (the mock keeps ~5 MB per partition).
        configuration.additionalProperties["batch.size"] = "4000000"
        configuration.linger = .milliseconds(20)
        configuration.queueBufferingMaxMessages = 500_000
        configuration.additionalProperties["batch.num.messages"] = "10000"
        let producer = try KafkaProducer(configuration: configuration)
        var workload = Workload(format: .words, seed: seed)
        var words = 0
        var bytes = 0
        for index in 0..<lines {
            guard let record = workload.next() else { break }
            let value = Array(record.value.utf8)
            words += value.reduce(into: 1) { count, byte in if byte == UInt8(ascii: " ") { count += 1 } }
            bytes += value.count
            try producer.send(KafkaProducerMessage(topic: topic, partition: Int32(index % Int(partitions)), value: value))
        }
        try producer.flush(timeout: .seconds(300))
        try producer.close()
        try check(cluster: cluster, topic: topic, partitions: partitions, records: lines)
        return Filled(lines: lines, words: words, bytes: bytes)
    }

    /// Throws unless every partition starts at offset 0 and the topic holds `records`.
    static func check(cluster: MockCluster, topic: String, partitions: Int32, records: Int) throws {
        let admin = try KafkaAdmin(bootstrapServers: cluster.bootstrapServers)
        var total: Int64 = 0
        for partition in 0..<partitions {
            let marks = try admin.watermarks(of: KafkaTopicPartition(topic: topic, partition: partition))
            guard marks.low == 0 else {
                throw BenchError("partition \(partition) of \(topic) lost its oldest records (low watermark \(marks.low)): the mock's retention was exceeded; use more partitions")
            }
            total += marks.high
        }
        guard total == Int64(records) else { throw BenchError("topic \(topic) holds \(total) records, expected \(records)") }
    }
}
