import Foundation
import Logging

/// Where a ``SocketLineReader`` puts what it receives.
protocol LineChunkSink: AnyObject, Sendable {
    /// Takes complete lines received from one connection.
    func accept(_ chunk: LineChunk)
    /// Waits up to `timeout` while the sink holds as much as it may;
    /// returns whether the reader may read more now.
    func waitForRoom(timeout: Duration) -> Bool
}

/// The reading half of a socket source: a dedicated thread connects, reads,
/// cuts the bytes into chunks of complete lines (a line split across reads
/// is kept whole) and hands them to a sink; when the server closes or goes
/// away it reconnects after `reconnectDelay`, until stopped. Reading pauses
/// while the sink has no room, so TCP slows the sender.
final class SocketLineReader: Sendable {
    let host: String
    let port: Int
    let reconnectDelay: Duration
    let name: String
    private let sink: any LineChunkSink
    private let state = Locked(State())

    private struct State {
        var stopRequested = false
        var running = false
        var connections = 0
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    init(host: String, port: Int, reconnectDelay: Duration, name: String, sink: any LineChunkSink) {
        self.host = host
        self.port = port
        self.reconnectDelay = reconnectDelay
        self.name = name
        self.sink = sink
    }

    /// Connections made so far (1 after the first connect; grows on reconnects).
    var connectionCount: Int { state.withLock { $0.connections } }

    /// Starts the reading thread.
    func start(logger: Logger) {
        state.withLock { $0.running = true }
        let thread = Thread { [self] in
            readLoop(logger: logger)
        }
        thread.name = "sluice-\(name)"
        thread.start()
    }

    /// Asks the thread to stop and waits until it has (at most ~100 ms).
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let running = state.withLock { state -> Bool in
                state.stopRequested = true
                if state.running { state.exitWaiters.append(continuation) }
                return state.running
            }
            if !running { continuation.resume() }
        }
    }

    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    /// The reader thread: connect, read until the peer closes, reconnect.
    private func readLoop(logger: Logger) {
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

    /// Reads one connection until it ends or the reader stops.
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
            sink.accept(chunk)
        }
        while !stopRequested {
            // Re-checks the stop flag at least every 100 ms while paused.
            guard sink.waitForRoom(timeout: .milliseconds(100)) else { continue }
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
