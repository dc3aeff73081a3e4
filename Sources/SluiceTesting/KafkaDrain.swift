import Sluice
import SluiceKafka

/// Whether a job has committed everything in some topics: its committed
/// offsets reach every partition's high watermark. For tests of jobs that
/// write topics they read (repartitions), to run batches until done.
public enum KafkaDrain {
    /// Whether `committed` (a job's next offsets) reaches the end of every
    /// partition of `topics` (topic → partition count). A retriable error
    /// asking the cluster (a test's injected faults) answers false.
    public static func covers(_ committed: [SourceOffset], topics: [String: Int32], bootstrap: String) throws -> Bool {
        do {
            return try coversOrThrows(committed, topics: topics, bootstrap: bootstrap)
        } catch let error as KafkaError where error.isRetriable {
            return false
        }
    }

    private static func coversOrThrows(_ committed: [SourceOffset], topics: [String: Int32], bootstrap: String) throws -> Bool {
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        var next: [KafkaTopicPartition: Int64] = [:]
        for offset in committed { next[KafkaTopicPartition(topic: offset.topic, partition: offset.partition)] = offset.offset }
        for (topic, count) in topics {
            for partition in 0..<count {
                let key = KafkaTopicPartition(topic: topic, partition: partition)
                if try admin.watermarks(of: key).high > (next[key] ?? 0) { return false }
            }
        }
        return true
    }
}
