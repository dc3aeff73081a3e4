import Sluice
import SluiceKafka
import Synchronization

/// Which Kafka direct source each direct stream reads, and the repartition
/// writer of each stream that has repartitions, for ``DStream/repartition(_:onBadRecord:_:)``.
enum KafkaInputRegistry {
    private struct Entry {
        weak var source: KafkaDirectSource?
        var writer: RepartitionWriter?
    }

    private static let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    static func remember(_ stream: DStream<KafkaRecord>, source: KafkaDirectSource) {
        entries.withLock { $0[ObjectIdentifier(stream)] = Entry(source: source) }
    }

    static func source(of stream: DStream<KafkaRecord>) -> KafkaDirectSource? {
        entries.withLock { $0[ObjectIdentifier(stream)]?.source }
    }

    /// The stream's writer, made (and registered by `register`) on first use.
    static func writer(of stream: DStream<KafkaRecord>, make: () throws -> RepartitionWriter) rethrows -> RepartitionWriter {
        try entries.withLock { entries in
            if let writer = entries[ObjectIdentifier(stream)]?.writer { return writer }
            let writer = try make()
            entries[ObjectIdentifier(stream), default: Entry()].writer = writer
            return writer
        }
    }
}
