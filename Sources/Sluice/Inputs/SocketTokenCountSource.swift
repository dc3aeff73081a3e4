import Foundation
import Logging

/// Word counts of lines read from a TCP server, counted as the lines
/// arrive: each batch is `(token, occurrences)` for the lines received
/// since the previous batch — the same result, batch by batch, as
/// `socketLineStream(host:port:).countTokens(separator:)`, but a batch
/// holds its distinct tokens rather than its lines, so memory stays small
/// however many lines a batch interval brings, and a batch's work is done
/// mostly before its time comes.
///
/// The connection is handled as by ``SocketLineSource`` (lines split across
/// reads kept whole, `\r\n` accepted, reconnects after `reconnectDelay`).
/// Tokens are counted by `defaultParallelism` threads; when they fall
/// behind, received bytes queue up to `maxPendingBytes`, then reading pauses.
/// A batch's record count is the number of lines it counted.
public final class SocketTokenCountSource: InputSource {
    public typealias Element = (ByteString, Int)

    public struct Plan: InputPlan {
        let taken: ArrivingTokenCounts.Taken
        let partitions: Int
        public var recordCount: Int? { taken.lines }
    }

    public let host: String
    public let port: Int
    public let reconnectDelay: Duration
    public let separator: UInt8
    public var name: String { "socket \(host):\(port) (token counts)" }
    private let counts: ArrivingTokenCounts
    private let reader: SocketLineReader

    /// - Parameters:
    ///   - separator: the byte between tokens (a newline always ends one).
    ///   - maxPendingBytes: received bytes not counted yet above which
    ///     reading pauses. Default: 16 MiB.
    public init(
        host: String, port: Int, separator: UInt8 = UInt8(ascii: " "),
        reconnectDelay: Duration = .milliseconds(500), maxPendingBytes: Int = 16 << 20
    ) {
        self.host = host
        self.port = port
        self.separator = separator
        self.reconnectDelay = reconnectDelay
        let counts = ArrivingTokenCounts(separator: separator, maxQueuedBytes: maxPendingBytes)
        self.counts = counts
        reader = SocketLineReader(
            host: host, port: port, reconnectDelay: reconnectDelay, name: "socket \(host):\(port)", sink: counts)
    }

    /// Connections made so far (1 after the first connect; grows on reconnects).
    public var connectionCount: Int { reader.connectionCount }

    /// Bytes received and not counted yet.
    public var pendingBytes: Int { counts.pendingBytes }

    /// Lines received since the start (over all connections).
    public var linesReceived: Int { counts.linesReceived }

    /// Blocks until at least `lines` lines were received and every one of
    /// them counted (or handed to a batch), or `timeout` passes; returns
    /// whether they were. For monitoring threads and tests: it blocks its
    /// thread.
    public func waitUntilCounted(lines: Int, timeout: Duration) -> Bool {
        counts.waitUntilCounted(lines: lines, timeout: timeout)
    }

    public func start(_ context: SourceContext) async throws {
        counts.startWorkers(context.defaultParallelism, name: "socket-\(port)")
        reader.start(logger: context.logger)
    }

    public func plan(_ context: PlanningContext) async throws -> Plan {
        Plan(taken: counts.take(), partitions: context.defaultParallelism)
    }

    public func read(_ plan: Plan) async throws -> Batch<(ByteString, Int)> {
        let separator = self.separator
        let late = await Parallel.map(splitChunks(plan.taken.uncounted, into: plan.partitions)) { group in
            let table = TokenCountTable()
            for chunk in group {
                chunk.forEachLine { line, _, _ in
                    line.withUnsafeBytes { table.countTokens(in: $0, separator: separator) }
                }
            }
            return table
        }
        return await TokenCountTable.merged(plan.taken.counted + late, partitionCount: plan.partitions)
    }

    public func stop() async {
        await reader.stop()
        counts.stopWorkers()
    }
}

extension StreamingContext {
    /// `(token, occurrences)` per batch for the lines a TCP server sends,
    /// counted as they arrive (see ``SocketTokenCountSource``): the result of
    /// `socketLineStream(host:port:).countTokens(separator:)`, batch by
    /// batch, in the memory of the distinct tokens.
    public func socketTokenCounts(
        host: String, port: Int, separator: UInt8 = UInt8(ascii: " "), reconnectDelay: Duration = .milliseconds(500)
    ) -> DStream<(ByteString, Int)> {
        inputStream(SocketTokenCountSource(host: host, port: port, separator: separator, reconnectDelay: reconnectDelay))
    }
}
