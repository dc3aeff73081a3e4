import Foundation
import Logging

/// Lines of text read from a TCP server (Spark's `socketTextStream`, the
/// input of NetworkWordCount). A dedicated thread connects, reads and cuts
/// the bytes into complete lines; each batch takes every complete line
/// received since the previous batch. Lines split across reads are kept
/// whole. When the server closes or goes away the source reconnects after
/// `reconnectDelay`, for as long as the context runs.
///
/// Lines are decoded in parallel when the batch is read; a line the decoder
/// rejects (bad UTF-8 for text) is skipped, counted in `undecodableLines`
/// and `sluice_input_undecodable_records_total`, and logged with its
/// connection, line number and byte offset.
public final class SocketLineSource<Element: Sendable>: InputSource {
    public struct Plan: InputPlan {
        let chunks: [LineChunk]
        let partitions: Int
    }

    public let host: String
    public let port: Int
    public let reconnectDelay: Duration
    public var name: String { "socket \(host):\(port)" }

    private let decode: @Sendable (ArraySlice<UInt8>) -> Element?
    /// Whether `decode` never fails: batches are then lazy views of the
    /// received chunks (no per-line array), decoded by each consumer.
    private let decodeNeverFails: Bool
    /// Received bytes not yet taken by a batch above which the reader
    /// stops reading (TCP then slows the sender).
    public var maxPendingBytes: Int { pending.maxBytes }
    private let pending: PendingLineChunks
    private let reader: SocketLineReader
    private let undecodable = Locked(0)
    private let counter = Locked<UndecodableRecordCounter?>(nil)
    private let loggerBox = Locked<Logger>(Logger(label: "sluice.socket"))

    /// A source that decodes each line with `decode` (nil: undecodable).
    ///
    /// - Parameter maxPendingBytes: received bytes not yet taken by a batch
    ///   above which reading pauses. Default: 256 MiB
    public convenience init(
        host: String, port: Int, reconnectDelay: Duration = .milliseconds(500),
        maxPendingBytes: Int = 256 << 20,
        decode: @escaping @Sendable (ArraySlice<UInt8>) -> Element?
    ) {
        self.init(host: host, port: port, reconnectDelay: reconnectDelay, maxPendingBytes: maxPendingBytes,
                  decodeNeverFails: false, decode: decode)
    }

    init(
        host: String, port: Int, reconnectDelay: Duration, maxPendingBytes: Int, decodeNeverFails: Bool,
        decode: @escaping @Sendable (ArraySlice<UInt8>) -> Element?
    ) {
        self.host = host
        self.port = port
        self.reconnectDelay = reconnectDelay
        self.decodeNeverFails = decodeNeverFails
        self.decode = decode
        let pending = PendingLineChunks(maxBytes: maxPendingBytes)
        self.pending = pending
        reader = SocketLineReader(
            host: host, port: port, reconnectDelay: reconnectDelay, name: "socket \(host):\(port)", sink: pending)
    }

    /// Lines skipped because they could not be decoded.
    public var undecodableLines: Int { undecodable.value }

    /// Connections made so far (1 after the first connect; grows on reconnects).
    public var connectionCount: Int { reader.connectionCount }

    /// Bytes of complete lines received and not yet taken by a batch.
    public var pendingBytes: Int { pending.pendingBytes }

    public func start(_ context: SourceContext) async throws {
        counter.withLock { $0 = context.undecodable }
        loggerBox.withLock { $0 = context.logger }
        reader.start(logger: context.logger)
    }

    public func plan(_ context: PlanningContext) async throws -> Plan {
        Plan(chunks: pending.takeAll(), partitions: context.defaultParallelism)
    }

    public func read(_ plan: Plan) async throws -> Batch<Element> {
        let groups = splitChunks(plan.chunks, into: plan.partitions)
        let decode = self.decode
        if decodeNeverFails {
            return Batch(partitions: groups.map { group in
                Partition(count: group.reduce(0) { $0 + $1.lineCount }) { body in
                    for chunk in group {
                        chunk.forEachLine { line, _, _ in
                            if let element = decode(line) { body(element) }
                        }
                    }
                }
            })
        }
        let results = await Parallel.map(groups) { group -> ([Element], [(Int, Int, Int)]) in
            var elements: [Element] = []
            var bad: [(Int, Int, Int)] = []
            for chunk in group {
                chunk.forEachLine { line, number, offset in
                    if let element = decode(line) {
                        elements.append(element)
                    } else {
                        bad.append((chunk.connection, number, offset))
                    }
                }
            }
            return (elements, bad)
        }
        let bad = results.flatMap(\.1)
        if !bad.isEmpty {
            reportUndecodable(bad)
        }
        return Batch(partitions: results.map { Partition($0.0) })
    }

    public func stop() async {
        await reader.stop()
    }

    private func reportUndecodable(_ bad: [(connection: Int, line: Int, offset: Int)]) {
        undecodable.withLock { $0 += bad.count }
        counter.value?.record(bad.count)
        let logger = loggerBox.value
        for entry in bad.prefix(10) {
            logger.warning("\(name): skipped line \(entry.line) of connection \(entry.connection) (byte offset \(entry.offset)): not decodable (invalid UTF-8)")
        }
        if bad.count > 10 {
            logger.warning("\(name): skipped \(bad.count - 10) more undecodable lines in this batch")
        }
    }
}

extension SocketLineSource where Element == String {
    /// Lines decoded as UTF-8 strings; invalid UTF-8 lines are skipped and counted.
    public convenience init(
        host: String, port: Int, reconnectDelay: Duration = .milliseconds(500), maxPendingBytes: Int = 256 << 20
    ) {
        self.init(host: host, port: port, reconnectDelay: reconnectDelay, maxPendingBytes: maxPendingBytes,
                  decodeNeverFails: false, decode: decodeUTF8Line)
    }
}

extension SocketLineSource where Element == ByteString {
    /// Lines as byte strings sharing the received buffer (no copy, no
    /// decoding), for tight loops such as a word count keyed by bytes.
    public convenience init(
        bytesFrom host: String, port: Int, reconnectDelay: Duration = .milliseconds(500),
        maxPendingBytes: Int = 256 << 20
    ) {
        self.init(host: host, port: port, reconnectDelay: reconnectDelay, maxPendingBytes: maxPendingBytes,
                  decodeNeverFails: true) { ByteString($0) }
    }
}

/// The line as a String, or nil when it is not valid UTF-8.
@Sendable
func decodeUTF8Line(_ bytes: ArraySlice<UInt8>) -> String? {
    if #available(macOS 15, *) {
        return String(validating: bytes, as: UTF8.self)
    } else {
        return String(bytes: bytes, encoding: .utf8)
    }
}

extension StreamingContext {
    /// Lines of text from a TCP server (Spark's `socketTextStream`);
    /// reconnects when the server restarts. See `SocketLineSource`.
    public func socketTextStream(host: String, port: Int, reconnectDelay: Duration = .milliseconds(500)) -> DStream<String> {
        inputStream(SocketLineSource<String>(host: host, port: port, reconnectDelay: reconnectDelay))
    }

    /// Lines from a TCP server as `ByteString`s, without decoding:
    /// `lines.flatMap { $0.tokens() }.map { ($0, 1) }.reduceByKey(+)` counts
    /// words without creating a String per word.
    public func socketLineStream(host: String, port: Int, reconnectDelay: Duration = .milliseconds(500)) -> DStream<ByteString> {
        inputStream(SocketLineSource<ByteString>(bytesFrom: host, port: port, reconnectDelay: reconnectDelay))
    }
}
