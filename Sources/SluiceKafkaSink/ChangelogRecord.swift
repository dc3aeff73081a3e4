import Sluice
import SluiceKafka

/// The changelog's record layout. Keys are `kind NUL job NUL …`; a deleted
/// state key is a record with an empty value and the header `sluice-delete`
/// (so compaction keeps only the newest record per key).
///
/// - `batch NUL job` → batch time (decimal)
/// - `offset NUL job NUL topic NUL partition` → next offset (decimal)
/// - `encoding NUL job NUL operator` → the operator's state encoding
/// - `state NUL job NUL operator NUL <key bytes>` → value bytes
/// - `reset NUL job` → recovery forgets everything of the job before it
enum ChangelogRecord {
    static let separator: UInt8 = 0
    static let deleteHeader = "sluice-delete"

    static func key(_ parts: [String], tail: [UInt8] = []) -> [UInt8] {
        var key: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if index > 0 { key.append(separator) }
            key += Array(part.utf8)
        }
        if !tail.isEmpty || parts.first == "state" {
            key.append(separator)
            key += tail
        }
        return key
    }

    static func messages(for commit: BatchCommit, topic: String) -> [KafkaProducerMessage] {
        var messages: [KafkaProducerMessage] = []
        for change in commit.stateChanges {
            messages.append(KafkaProducerMessage(
                topic: topic, partition: 0, key: key(["encoding", commit.job, change.name]), value: Array(change.encoding.utf8)))
            for entry in change.delta.upserts {
                messages.append(KafkaProducerMessage(
                    topic: topic, partition: 0, key: key(["state", commit.job, change.name], tail: entry.key), value: entry.value))
            }
            for deleted in change.delta.deletes {
                messages.append(KafkaProducerMessage(
                    topic: topic, partition: 0, key: key(["state", commit.job, change.name], tail: deleted), value: [],
                    headers: [KafkaHeader(name: deleteHeader, value: nil)]))
            }
        }
        for offset in commit.offsets {
            messages.append(KafkaProducerMessage(
                topic: topic, partition: 0, key: key(["offset", commit.job, offset.topic, String(offset.partition)]),
                value: Array(String(offset.offset).utf8)))
        }
        messages.append(KafkaProducerMessage(
            topic: topic, partition: 0, key: key(["batch", commit.job]), value: Array(String(commit.batchTime.milliseconds).utf8)))
        return messages
    }

    /// A dead letter for the dead-letter topic: keyed `topic/partition/offset`,
    /// the original payload as value, and the job, position and error as headers.
    static func deadLetter(_ letter: DeadLetter, job: String, topic: String) -> KafkaProducerMessage {
        KafkaProducerMessage(
            topic: topic,
            key: Array("\(letter.topic)/\(letter.partition)/\(letter.offset)".utf8),
            value: letter.payload,
            headers: [
                KafkaHeader(name: "job", string: job),
                KafkaHeader(name: "source-topic", string: letter.topic),
                KafkaHeader(name: "source-partition", string: String(letter.partition)),
                KafkaHeader(name: "source-offset", string: String(letter.offset)),
                KafkaHeader(name: "error", string: letter.error),
            ])
    }
}

/// Result rows as records: key = key columns (upsert tables), value = every
/// column, tab-separated.
enum ResultRecord {
    static func message(row: [ResultValue], table: ResultTable, topic: String) -> KafkaProducerMessage {
        var key: [UInt8]?
        if case .upsert(let keyColumns) = table.mode {
            let parts = keyColumns.compactMap { name in table.columns.firstIndex { $0.name == name }.map { row[$0].description } }
            key = Array(parts.joined(separator: "\t").utf8)
        }
        let value = row.map(\.description).joined(separator: "\t")
        return KafkaProducerMessage(topic: topic, key: key, value: Array(value.utf8))
    }
}
