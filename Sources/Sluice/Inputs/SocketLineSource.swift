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
    public let maxPendingBytes: Int
    private let state = Locked(ReaderState())
    /// Signalled when a batch takes the pending data (the reader may resume).
    private let drained = NSCondition()
    private let counter = Locked<UndecodableRecordCounter?>(nil)
    private let loggerBox = Locked<Logger>(Logger(label: "sluice.socket"))

    struct ReaderState {
        var pending: [LineChunk] = []
        var pendingBytes = 0
        var stopRequested = false
        var running = false
        var connections = 0
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
        var undecodable = 0
    }

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
        self.maxPendingBytes = max(1, maxPendingBytes)
        self.decodeNeverFails = decodeNeverFails
        self.decode = decode
    }

    /// Lines skipped because they could not be decoded.
    public var undecodableLines: Int { state.withLock { $0.undecodable } }

    /// Connections made so far (1 after the first connect; grows on reconnects).
    public var connectionCount: Int { state.withLock { $0.connections } }

    /// Bytes of complete lines received and not yet taken by a batch.
    public var pendingBytes: Int { state.withLock { $0.pendingBytes } }

    public func start(_ context: SourceContext) async throws {
        counter.withLock { $0 = context.undecodable }
        loggerBox.withLock { $0 = context.logger }
        state.withLock { $0.running = true }
        let thread = Thread { [self] in
            readLoop()
        }
        thread.name = "sluice-\(name)"
        thread.start()
    }

    public func plan(_ context: PlanningContext) async throws -> Plan {
        let chunks = state.withLock { state -> [LineChunk] in
            defer {
                state.pending = []
                state.pendingBytes = 0
            }
            return state.pending
        }
        drained.withLock { drained.broadcast() }
        return Plan(chunks: chunks, partitions: context.defaultParallelism)
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
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let running = state.withLock { state -> Bool in
                state.stopRequested = true
                if state.running { state.exitWaiters.append(continuation) }
                return state.running
            }
            if !running { continuation.resume() }
        }
    }

    private func reportUndecodable(_ bad: [(connection: Int, line: Int, offset: Int)]) {
        state.withLock { $0.undecodable += bad.count }
        counter.value?.record(bad.count)
        let logger = loggerBox.value
        for entry in bad.prefix(10) {
            logger.warning("\(name): skipped line \(entry.line) of connection \(entry.connection) (byte offset \(entry.offset)): not decodable (invalid UTF-8)")
        }
        if bad.count > 10 {
            logger.warning("\(name): skipped \(bad.count - 10) more undecodable lines in this batch")
        }
    }

    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    /// The reader thread: connect, read until the peer closes, reconnect.
    private func readLoop() {
        let logger = loggerBox.value
        var warnedUnreachable = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 1)
        defer {
            buffer.deallocate()
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.running = false
                defer { state.exitWaiters = [] }
                return state.exitWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        while !stopRequested {
            switch POSIXSocket.connect(host: host, port: port, timeoutMilliseconds: 1000) {
            case .failure(let error):
                if !warnedUnreachable {
                    logger.warning("\(name): \(error.message); retrying every \(reconnectDelay)")
                    warnedUnreachable = true
                }
                waitBeforeReconnect()
            case .success(let fd):
                warnedUnreachable = false
                let connection = state.withLock { state -> Int in
                    state.connections += 1
                    return state.connections
                }
                logger.info("\(name): connected (connection \(connection))")
                let reason = receive(from: fd, connection: connection, buffer: buffer)
                POSIXSocket.close(fd)
                if !stopRequested {
                    logger.info("\(name): connection \(connection) ended (\(reason)); reconnecting in \(reconnectDelay)")
                    waitBeforeReconnect()
                }
            }
        }
    }

    /// Reads one connection until it ends or the source stops.
    private func receive(from fd: Int32, connection: Int, buffer: UnsafeMutableRawBufferPointer) -> String {
        var carry: [UInt8] = []
        var line = 1
        var offset = 0
        func emit(_ bytes: [UInt8]) {
            let newlines = LineChunk.countNewlines(bytes[...])
            // A chunk ends with a newline, except the last line before the peer closed.
            let lines = bytes.last == 10 ? newlines : newlines + 1
            let chunk = LineChunk(
                bytes: bytes, connection: connection, firstLine: line, firstByteOffset: offset, lineCount: lines)
            line += lines
            offset += bytes.count
            state.withLock { state in
                state.pending.append(chunk)
                state.pendingBytes += bytes.count
            }
        }
        while !stopRequested {
            if state.withLock({ $0.pendingBytes }) >= maxPendingBytes {
                // Batches are behind: stop reading until one takes the data
                // (re-checking the stop flag every 100 ms).
                drained.lock()
                if state.withLock({ $0.pendingBytes }) >= maxPendingBytes {
                    _ = drained.wait(until: Date(timeIntervalSinceNow: 0.1))
                }
                drained.unlock()
                continue
            }
            switch POSIXSocket.read(fd, into: buffer, timeoutMilliseconds: 100) {
            case .timeout:
                continue
            case .data(let count):
                let received = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                guard let lastNewline = received.lastIndex(of: 10) else {
                    carry.append(contentsOf: received)
                    continue
                }
                var bytes = carry
                carry = []
                bytes.append(contentsOf: received[0...lastNewline])
                carry.append(contentsOf: received[(lastNewline + 1)...])
                emit(bytes)
            case .endOfStream:
                if !carry.isEmpty { emit(carry) }
                return "closed by the server"
            case .failed(let message):
                if !carry.isEmpty { emit(carry) }
                return message
            }
        }
        return "source stopped"
    }

    private func waitBeforeReconnect() {
        let deadline = ContinuousClock.now + reconnectDelay
        while !stopRequested && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: min(0.05, max(0, (deadline - ContinuousClock.now).secondsDouble)))
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
