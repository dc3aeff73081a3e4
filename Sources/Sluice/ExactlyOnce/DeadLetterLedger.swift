import Logging
import Metrics

/// Dead letters per batch time, filled by ``DStream/mapOrDeadLetter(locate:policy:_:)``
/// while a batch is computed and taken by the exactly-once output that
/// commits the batch.
final class DeadLetterLedger: Sendable {
    private let letters = Locked<[Time: [DeadLetter]]>([:])
    private let counter = Counter(label: "sluice_dead_letters_total")

    func record(_ letter: DeadLetter, at time: Time) {
        counter.increment()
        letters.withLock { letters in
            letters[time, default: []].append(letter)
            // Nobody takes them without an exactly-once output: keep a bounded past.
            if letters.count > 64, let oldest = letters.keys.min() { letters[oldest] = nil }
        }
    }

    /// Removes and returns the dead letters of `time`, ordered by position.
    func take(_ time: Time) -> [DeadLetter] {
        let taken = letters.withLock { $0.removeValue(forKey: time) } ?? []
        return taken.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }
    }
}

/// What to do with an element whose transform throws.
public enum DeadLetterPolicy: Sendable, Hashable {
    /// Keep it as a dead letter (committed with the batch by an exactly-once
    /// output, counted in `sluice_dead_letters_total`) and go on.
    case deadLetter
    /// Stop the job with an error naming the element's position.
    case stop
}

/// Where a dead letter came from.
public struct DeadLetterPosition: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var payload: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, payload: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.payload = payload
    }
}

extension DStream {
    /// Maps each element with a function that may throw (a decoder, say).
    /// An element it throws for is left out of the result and, by `policy`,
    /// kept as a dead letter with its position or makes the batch fail with
    /// an error naming that position.
    public func mapOrDeadLetter<T: Sendable>(
        locate: @escaping @Sendable (Element) -> DeadLetterPosition,
        policy: DeadLetterPolicy = .deadLetter,
        _ transform: @escaping @Sendable (Element) throws -> T
    ) -> DStream<T> {
        let ledger = node.graph.deadLetters
        let logger = node.graph.logger
        return derived("mapOrDeadLetter") { batch, time in
            let failures = Locked<[DeadLetter]>([])
            let mapped = await batch.mapPartitions { elements in
                var output: [T] = []
                output.reserveCapacity(elements.count)
                for element in elements {
                    do {
                        output.append(try transform(element))
                    } catch {
                        let position = locate(element)
                        failures.withLock {
                            $0.append(DeadLetter(topic: position.topic, partition: position.partition,
                                                 offset: position.offset, error: "\(error)", payload: position.payload))
                        }
                    }
                }
                return output
            }.materialized()
            let failed = failures.value
            if let first = failed.first, policy == .stop {
                throw StreamingError(
                    code: .outputFailed,
                    message: "record \(first.topic)-\(first.partition)@\(first.offset) could not be processed: \(first.error); "
                        + "fix the record or run with the dead-letter policy")
            }
            for letter in failed {
                logger.warning("dead letter \(letter.topic)-\(letter.partition)@\(letter.offset): \(letter.error)")
                ledger.record(letter, at: time)
            }
            return mapped
        }
    }
}
