import Logging
import Sluice
import SluiceKafka

/// Reads a job's changelog from the beginning to its end (read_committed)
/// and folds it into what the job committed last.
struct ChangelogReader {
    let configuration: KafkaTransactionalStore.Configuration
    let logger: Logger

    /// *Blocking*.
    func read(job: String) throws -> RecoveredJob {
        var consumerConfiguration = KafkaConsumerConfiguration(bootstrapServers: configuration.bootstrapServers)
        consumerConfiguration.isolationLevel = .readCommitted
        consumerConfiguration.security = configuration.producer?.security ?? KafkaSecurityOptions()
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        defer { try? consumer.close() }
        let partitionCount: Int
        do {
            partitionCount = try consumer.partitionCount(of: configuration.changelogTopic)
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            return Fold(job: job).result  // no changelog yet: a new job
        }
        var ends: [KafkaTopicPartition: Int64] = [:]
        var starts: [KafkaTopicPartition: KafkaStartOffset] = [:]
        for index in 0..<partitionCount {
            let partition = KafkaTopicPartition(topic: configuration.changelogTopic, partition: Int32(index))
            let marks = try consumer.watermarks(of: partition)
            if marks.high > marks.low {
                ends[partition] = marks.high
                starts[partition] = .beginning
            }
        }
        var folded = Fold(job: job)
        guard !starts.isEmpty else { return folded.result }
        try consumer.assign(starts)
        var positions: [KafkaTopicPartition: Int64] = [:]
        let deadline = ContinuousClock.now + .seconds(120)
        while ends.contains(where: { (positions[$0.key] ?? 0) < $0.value }) {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(code: .timedOut, message: "reading changelog \(configuration.changelogTopic) did not reach its end within 120 s")
            }
            for record in try consumer.poll(maxRecords: 10_000, timeout: .milliseconds(200)) {
                folded.apply(record)
                positions[record.topicPartition] = record.offset + 1
            }
            // Transaction markers take offsets without records.
            for (partition, position) in try consumer.position(Array(ends.keys)) {
                if let position { positions[partition] = max(positions[partition] ?? 0, position) }
            }
        }
        return folded.result
    }

    /// Applies changelog records in order; the newest value of a key wins.
    struct Fold {
        let job: String
        var batchTime: Int64?
        var offsets: [SourceOffset: Int64] = [:]
        var offsetValues: [String: SourceOffset] = [:]
        var encodings: [String: String] = [:]
        var state: [String: [[UInt8]: [UInt8]]] = [:]

        init(job: String) { self.job = job }

        mutating func apply(_ record: KafkaRecord) {
            guard let key = record.key else { return }
            let parts = key.split(separator: ChangelogRecord.separator, maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 2, String(decoding: parts[1], as: UTF8.self) == job else { return }
            let kind = String(decoding: parts[0], as: UTF8.self)
            let value = String(decoding: record.value, as: UTF8.self)
            switch kind {
            case "reset":
                self = Fold(job: job)
            case "batch":
                batchTime = Int64(value)
            case "offset" where parts.count == 4:
                let fields = key.split(separator: ChangelogRecord.separator, omittingEmptySubsequences: false)
                guard fields.count == 4, let partition = Int32(String(decoding: fields[3], as: UTF8.self)),
                      let offset = Int64(value) else { return }
                let topic = String(decoding: fields[2], as: UTF8.self)
                offsetValues["\(topic)\u{0}\(partition)"] = SourceOffset(topic: topic, partition: partition, offset: offset)
            case "encoding" where parts.count >= 3:
                encodings[String(decoding: parts[2], as: UTF8.self)] = value
            case "state" where parts.count == 4:
                let name = String(decoding: parts[2], as: UTF8.self)
                let stateKey = Array(parts[3])
                if record.headers.contains(where: { $0.name == ChangelogRecord.deleteHeader }) {
                    state[name]?[stateKey] = nil
                } else {
                    state[name, default: [:]][stateKey] = Array(record.value)  // its own bytes, not a slice pinning the whole poll
                }
            default:
                break
            }
        }

        var result: RecoveredJob {
            var operators: [String: RecoveredOperatorState] = [:]
            for (name, encoding) in encodings {
                let entries = (state[name] ?? [:]).map { EncodedStateEntry(key: $0.key, value: $0.value) }
                operators[name] = RecoveredOperatorState(encoding: encoding, entries: entries)
            }
            return RecoveredJob(
                lastBatchTime: batchTime.map { Time(milliseconds: $0) },
                offsets: offsetValues.values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) },
                operators: operators)
        }
    }
}
