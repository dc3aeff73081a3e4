import Foundation
import Sluice

/// One partition of records that the runs of a job share, as a Kafka
/// partition is shared: a test appends to it, and any run reads it again
/// from any offset.
public final class ReplayableLog<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [Element] = []

    public init() {}

    public func append(_ values: [Element]) { lock.withLock { records.append(contentsOf: values) } }

    /// The offset the next appended record gets.
    public var end: Int64 { lock.withLock { Int64(records.count) } }

    /// The records of `range` (its partition is ignored: the log has one).
    public func read(_ range: OffsetRange) -> [Element] {
        lock.withLock { Array(records[Int(range.from)..<Int(range.until)]) }
    }
}

/// Reads a ``ReplayableLog`` as partition 0 of `topic`: each batch takes
/// every record appended since the previous batch, and an exactly-once
/// output's recovered offsets resume it (it supports replay), as the Kafka
/// direct stream does.
public final class ReplayableLogSource<Element: Sendable>: InputSource, @unchecked Sendable {
    public struct Plan: InputPlan {
        public var offsetRanges: [OffsetRange]
    }

    public let name: String
    public let topic: String
    public let log: ReplayableLog<Element>
    private let partitions: Int
    private let lock = NSLock()
    private var position: Int64 = 0

    /// - Parameter partitions: how many partitions each batch's records are spread over.
    public init(log: ReplayableLog<Element>, topic: String = "log", partitions: Int = 1) {
        self.log = log
        self.topic = topic
        self.partitions = max(1, partitions)
        name = "replayable log \(topic)"
    }

    public var supportsReplay: Bool { true }

    public func resume(from offsets: [SourceOffset]) {
        if let offset = offsets.first(where: { $0.topic == topic && $0.partition == 0 }) {
            lock.withLock { position = offset.offset }
        }
    }

    public func start(_ context: SourceContext) async throws {}

    public func plan(_ context: PlanningContext) async throws -> Plan {
        let end = log.end
        let from = lock.withLock {
            defer { position = end }
            return position
        }
        return Plan(offsetRanges: [OffsetRange(topic: topic, partition: 0, from: from, until: end)])
    }

    public func read(_ plan: Plan) async throws -> Batch<Element> {
        Batch(log.read(plan.offsetRanges[0]), partitionCount: partitions)
    }

    public func stop() async {}
}
