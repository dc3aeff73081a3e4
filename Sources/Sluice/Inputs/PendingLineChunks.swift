import Foundation

/// Received chunks of lines not yet taken by a batch (the socket line
/// source's buffer), with a cap on their bytes above which the reader waits.
final class PendingLineChunks: LineChunkSink, @unchecked Sendable {
    let maxBytes: Int
    /// Guards `chunks` and `bytes`; signalled when a batch takes them.
    private let condition = NSCondition()
    private var chunks: [LineChunk] = []
    private var bytes = 0

    init(maxBytes: Int) {
        self.maxBytes = max(1, maxBytes)
    }

    /// Bytes held.
    var pendingBytes: Int {
        condition.withLock { bytes }
    }

    func accept(_ chunk: LineChunk) {
        condition.withLock {
            chunks.append(chunk)
            bytes += chunk.bytes.count
        }
    }

    func waitForRoom(timeout: Duration) -> Bool {
        condition.withLock {
            if bytes >= maxBytes {
                _ = condition.wait(until: Date(timeIntervalSinceNow: timeout.secondsDouble))
            }
            return bytes < maxBytes
        }
    }

    /// Everything held, in arrival order; the buffer is empty afterwards.
    func takeAll() -> [LineChunk] {
        condition.withLock {
            defer {
                chunks = []
                bytes = 0
                condition.broadcast()
            }
            return chunks
        }
    }
}
