import Foundation

/// Token counts of lines counted as they arrive: the buffer of
/// ``SocketTokenCountSource``. Worker threads take received chunks from a
/// queue and count their tokens into one table per worker; a batch takes
/// the tables and whatever is still queued. What a batch holds is then the
/// distinct tokens seen since the previous batch, not the lines.
final class ArrivingTokenCounts: LineChunkSink, @unchecked Sendable {
    /// What a batch takes: finished tables as token counts, and chunks not
    /// counted yet.
    struct Taken: Sendable {
        /// The counting threads' tables, each no longer written.
        var counted: [TokenCountTable]
        var uncounted: [LineChunk]
        /// Lines in `counted` and `uncounted` together.
        var lines: Int
    }

    let separator: UInt8
    /// Queued bytes not yet counted above which the reader waits.
    let maxQueuedBytes: Int
    /// Guards everything below; signalled when the queue or `busy` changes.
    private let condition = NSCondition()
    private var queue: [LineChunk] = []
    private var queueHead = 0
    private var queuedBytes = 0
    private var queuedLines = 0
    private var tables: [TokenCountTable?] = []
    private var countedLines = 0
    /// Workers counting a chunk right now.
    private var busy = 0
    /// A batch is taking the tables: workers start no new chunk.
    private var taking = false
    private var stopping = false
    private var running = 0
    private var receivedLines = 0

    init(separator: UInt8, maxQueuedBytes: Int) {
        self.separator = separator
        self.maxQueuedBytes = max(1, maxQueuedBytes)
    }

    /// Bytes received and not counted yet.
    var pendingBytes: Int { condition.withLock { queuedBytes } }

    /// Bytes of received chunks still referenced by the queue: those not
    /// counted yet, and nothing of counted ones.
    var heldBytes: Int { condition.withLock { queue.reduce(0) { $0 + $1.bytes.count } } }

    /// Lines received since the start, counted or not.
    var linesReceived: Int { condition.withLock { receivedLines } }

    /// Blocks until at least `lines` lines were received and none of them
    /// waits to be counted, or `timeout` passes; returns whether they were.
    func waitUntilCounted(lines: Int, timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.secondsDouble)
        return condition.withLock {
            while receivedLines < lines || queuedBytes > 0 {
                if !condition.wait(until: deadline) { return receivedLines >= lines && queuedBytes == 0 }
            }
            return true
        }
    }

    /// Starts `count` counting threads.
    func startWorkers(_ count: Int, name: String) {
        let count = max(1, count)
        condition.withLock {
            tables = Array(repeating: nil, count: count)
            running = count
        }
        for index in 0..<count {
            let thread = Thread { [self] in work(index) }
            thread.name = "sluice-\(name)-count-\(index)"
            thread.start()
        }
    }

    /// Stops the counting threads and waits for them; what is queued is dropped.
    func stopWorkers() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while running > 0 { condition.wait() }
        }
    }

    func accept(_ chunk: LineChunk) {
        condition.withLock {
            queue.append(chunk)
            queuedBytes += chunk.bytes.count
            queuedLines += chunk.lineCount
            receivedLines += chunk.lineCount
            condition.broadcast()
        }
    }

    func waitForRoom(timeout: Duration) -> Bool {
        condition.withLock {
            if queuedBytes >= maxQueuedBytes {
                _ = condition.wait(until: Date(timeIntervalSinceNow: timeout.secondsDouble))
            }
            return queuedBytes < maxQueuedBytes
        }
    }

    /// Everything received so far: the workers' tables (once the chunks
    /// they are counting are done) and the chunks still queued.
    func take() -> Taken {
        let (finished, uncounted, lines): ([TokenCountTable], [LineChunk], Int) = condition.withLock {
            taking = true
            while busy > 0 { condition.wait() }
            defer {
                taking = false
                condition.broadcast()
            }
            let finished = tables.compactMap { $0 }
            tables = Array(repeating: nil, count: tables.count)
            let uncounted = Array(queue[queueHead...])
            queue = []
            queueHead = 0
            let lines = countedLines + queuedLines
            countedLines = 0
            queuedBytes = 0
            queuedLines = 0
            return (finished, uncounted, lines)
        }
        return Taken(counted: finished, uncounted: uncounted, lines: lines)
    }

    /// A counting thread: takes the oldest queued chunk, counts it into its table.
    private func work(_ index: Int) {
        while true {
            let next: (LineChunk, TokenCountTable)? = condition.withLock {
                while !stopping && (taking || queueHead == queue.count) { condition.wait() }
                if stopping { return nil }
                let chunk = queue[queueHead]
                // The queue no longer holds the bytes: they are freed once counted.
                queue[queueHead].bytes = []
                queueHead += 1
                if queueHead >= 1024 && queueHead * 2 >= queue.count {
                    queue.removeFirst(queueHead)
                    queueHead = 0
                }
                busy += 1
                let table = tables[index] ?? TokenCountTable()
                tables[index] = table
                return (chunk, table)
            }
            guard let (chunk, table) = next else { break }
            chunk.forEachLine { line, _, _ in
                line.withUnsafeBytes { table.countTokens(in: $0, separator: separator) }
            }
            condition.withLock {
                busy -= 1
                queuedBytes -= chunk.bytes.count
                queuedLines -= chunk.lineCount
                countedLines += chunk.lineCount
                condition.broadcast()
            }
        }
        condition.withLock {
            running -= 1
            condition.broadcast()
        }
    }
}
